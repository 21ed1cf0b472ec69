//! Throwaway PostgreSQL databases: one per test (or per measured configuration), created
//! on a server given by URL and dropped with whatever is still connected to it.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

/// The server the tests use when `GIRD_TEST_POSTGRES_URL` names none.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// A server that does not answer fails the test (or the benchmark) instead of hanging it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL server the throwaway databases are created on: `GIRD_TEST_POSTGRES_URL`,
/// else [`DEFAULT_POSTGRES_URL`].
pub fn postgres_url() -> String {
    std::env::var("GIRD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

#[derive(Debug)]
pub enum Error {
    /// Not a `postgres://` URL.
    Url(String),
    /// Not a name a database can have here (lowercase letters, digits, `_`).
    Name(String),
    Postgres {
        doing: String,
        error: tokio_postgres::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url(url) => write!(
                f,
                "{url:?}: give the PostgreSQL server as a postgres:// URL"
            ),
            Error::Name(name) => write!(
                f,
                "{name:?} is not a database name (1 to 63 lowercase letters, digits and '_', a letter first)"
            ),
            Error::Postgres { doing, error } => write!(f, "{doing}: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Postgres { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn failed(doing: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
    let doing = doing.into();
    move |error| Error::Postgres { doing, error }
}

/// `postgres://user@host:port/old?options` with `database` in place of `old`.
pub fn url_with_database(url: &str, database: &str) -> Result<String, Error> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(Error::Url(url.to_owned()));
    };
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(Error::Url(url.to_owned()));
    }
    let (location, options) = match rest.split_once('?') {
        Some((location, options)) => (location, format!("?{options}")),
        None => (rest, String::new()),
    };
    let authority = location.split_once('/').map_or(location, |(host, _)| host);
    Ok(format!("{scheme}://{authority}/{database}{options}"))
}

async fn connect(url: &str) -> Result<Client, Error> {
    let mut config: Config = url.parse().map_err(|_| Error::Url(url.to_owned()))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(failed(format!("connect to {url}")))?;
    tokio::spawn(async move {
        // A broken connection shows up as an error of the next query.
        let _ = connection.await;
    });
    Ok(client)
}

fn check_name(name: &str) -> Result<(), Error> {
    let fits = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    match fits {
        true => Ok(()),
        false => Err(Error::Name(name.to_owned())),
    }
}

/// Drops the database `name` on the server at `server_url`, forcing off whatever is still
/// connected to it; one that does not exist is fine.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), Error> {
    check_name(name)?;
    connect(server_url)
        .await?
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .map_err(failed(format!("DROP DATABASE {name}")))
}

/// A database of its own on a PostgreSQL server; dropped by [`TestDatabase::drop`], or
/// at the latest when the value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
    dropped: bool,
}

impl TestDatabase {
    /// A new, empty database on the server at `GIRD_TEST_POSTGRES_URL`; fails the test,
    /// saying why, when there is none.
    pub async fn create() -> TestDatabase {
        let server_url = postgres_url();
        let name = TestDatabase::unique_name("gird_test");
        TestDatabase::create_on(&server_url, &name)
            .await
            .unwrap_or_else(|error| {
                panic!("a throwaway database (GIRD_TEST_POSTGRES_URL={server_url}): {error}")
            })
    }

    /// A new, empty database `name` on the server at `server_url` (a URL naming any
    /// database the user may connect to, and a user allowed to `CREATE DATABASE`).
    pub async fn create_on(server_url: &str, name: &str) -> Result<TestDatabase, Error> {
        check_name(name)?;
        let url = url_with_database(server_url, name)?;
        connect(server_url)
            .await?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(failed(format!("CREATE DATABASE {name}")))?;
        Ok(TestDatabase {
            name: name.to_owned(),
            url,
            server_url: server_url.to_owned(),
            dropped: false,
        })
    }

    /// `<prefix>_<process id>_<16 hex digits>`: unique across the tests of one run and
    /// across runs (a crashed run's leftovers included).
    pub fn unique_name(prefix: &str) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let salt = RandomState::new().hash_one(NEXT.fetch_add(1, Ordering::Relaxed));
        format!("{prefix}_{}_{salt:016x}", std::process::id())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL: what `gird --database` takes.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection to the database; fails the test when there is none.
    pub async fn connect(&self) -> Client {
        connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Names of the tables in it (any schema but PostgreSQL's own), sorted.
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

    /// Drops the database now, forcing off whatever is still connected to it.
    pub async fn drop(mut self) -> Result<(), Error> {
        self.dropped = true;
        drop_database(&self.server_url, &self.name).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which cannot block on a future.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?
                .block_on(drop_database(&server_url, &name))
                .map_err(|error| error.to_string())
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop database {}: {error}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            url_with_database("postgresql://u:p@db/app?sslmode=disable", "x").unwrap(),
            "postgresql://u:p@db/x?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://localhost", "x").unwrap(),
            "postgres://localhost/x"
        );
        assert!(url_with_database("host=localhost dbname=postgres", "x").is_err());
    }

    #[test]
    fn names_are_unique_and_usable() {
        let (a, b) = (
            TestDatabase::unique_name("gird_test"),
            TestDatabase::unique_name("gird_test"),
        );
        assert_ne!(a, b);
        check_name(&a).unwrap();
        for bad in ["", "Upper", "1st", "semi;colon", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    /// Needs the PostgreSQL server of the tests (see [`postgres_url`]).
    #[tokio::test]
    async fn a_database_is_created_empty_and_dropped() {
        let database = TestDatabase::create().await;
        assert!(database.tables().await.is_empty());
        database
            .connect()
            .await
            .batch_execute("CREATE TABLE t (x text); INSERT INTO t VALUES ('needle')")
            .await
            .unwrap();
        assert_eq!(database.tables_containing("needle").await, ["public.t"]);
        let (server, name) = (postgres_url(), database.name().to_owned());
        // A connection left open does not keep it.
        let _open = database.connect().await;
        database.drop().await.unwrap();
        let exists = connect(&server)
            .await
            .unwrap()
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        assert_eq!(exists, 0, "{name} is gone");
        let dropped_on_drop = TestDatabase::create().await;
        let name = dropped_on_drop.name().to_owned();
        drop(dropped_on_drop);
        let exists = connect(&server)
            .await
            .unwrap()
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        assert_eq!(exists, 0, "{name} is gone when dropped");
    }
}
