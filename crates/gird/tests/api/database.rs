//! The storage backend the suite runs against, and throwaway PostgreSQL databases.
//!
//! `GIRD_TEST_BACKEND` is `sqlite` (the default) or `postgres`. With `postgres`, every
//! spawned app gets a database of its own on the server at `GIRD_TEST_POSTGRES_URL`
//! (default [`DEFAULT_POSTGRES_URL`]), dropped when the app and its restarts are gone.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use tokio_postgres::{Client, NoTls};

use crate::helpers::unique;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend `GIRD_TEST_BACKEND` names.
    pub fn from_env() -> Backend {
        match std::env::var("GIRD_TEST_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok(other) => panic!("GIRD_TEST_BACKEND={other}: expected sqlite or postgres"),
        }
    }
}

/// The PostgreSQL server the throwaway databases are created on.
pub fn postgres_url() -> String {
    std::env::var("GIRD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

pub async fn try_connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

pub async fn connect(url: &str) -> Client {
    try_connect(url)
        .await
        .unwrap_or_else(|error| panic!("connect to {url}: {error}"))
}

/// `url` naming the database `name` instead of its own.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").map_or(0, |at| at + 3);
    let end = base[authority..]
        .find('/')
        .map_or(base.len(), |at| authority + at);
    format!("{}/{name}{query}", &base[..end])
}

/// A database of its own; dropped, with whatever is still connected to it, when dropped.
pub struct TestDatabase {
    pub name: String,
    /// What `gird --database` takes.
    pub url: String,
    server_url: String,
}

impl TestDatabase {
    /// A new, empty database on the server at `GIRD_TEST_POSTGRES_URL`.
    pub async fn create() -> TestDatabase {
        let server_url = postgres_url();
        let name = format!(
            "gird_test_{}_{:016x}",
            std::process::id(),
            RandomState::new().hash_one(unique("db"))
        );
        connect(&server_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("create database {name}: {error}"));
        TestDatabase {
            url: with_database(&server_url, &name),
            name,
            server_url,
        }
    }

    pub async fn connect(&self) -> Client {
        connect(&self.url).await
    }

    /// Names of gird's tables (any schema but PostgreSQL's own).
    pub async fn tables(&self) -> Vec<String> {
        let rows = self
            .connect()
            .await
            .query(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
                 FROM information_schema.tables
                 WHERE table_type = 'BASE TABLE'
                   AND table_schema NOT IN ('pg_catalog', 'information_schema')
                 ORDER BY 1",
                &[],
            )
            .await
            .expect("list tables");
        rows.iter().map(|row| row.get(0)).collect()
    }

    /// The tables with a row whose text contains `needle`, as text or as `bytea` hex.
    pub async fn tables_containing(&self, needle: &str) -> Vec<String> {
        let client = self.connect().await;
        let hex: String = needle.bytes().map(|byte| format!("{byte:02x}")).collect();
        let mut found = Vec::new();
        for table in self.tables().await {
            let query = format!(
                "SELECT EXISTS (SELECT 1 FROM {table} AS t
                 WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0)"
            );
            let row = client
                .query_one(&query, &[&needle, &hex])
                .await
                .unwrap_or_else(|error| panic!("search {table}: {error}"));
            if row.get::<_, bool>(0) {
                found.push(table);
            }
        }
        found
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which cannot block on a future.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the database");
            runtime.block_on(async {
                let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                try_connect(&server_url)
                    .await?
                    .batch_execute(&statement)
                    .await
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop database {}: {error}", self.name);
        }
    }
}
