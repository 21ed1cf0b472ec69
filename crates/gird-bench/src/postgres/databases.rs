//! Throwaway databases, one per measured configuration: created on an admin
//! connection and dropped at the end of the run, whatever happened in between.

use std::time::Duration;

use anyhow::{bail, Context};
use tokio_postgres::{Client, Config, NoTls};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A database created for this run.
pub struct Throwaway {
    pub name: String,
    /// The admin URL with this database in it, what gird gets as `--database`.
    pub url: String,
    pub config: Config,
}

pub struct Databases {
    admin_url: String,
    admin: Client,
    run_tag: String,
    /// Every name a CREATE was attempted for, so cleanup also covers a failed one.
    created: Vec<String>,
}

impl Databases {
    pub async fn connect(admin_url: &str, run_tag: &str) -> anyhow::Result<Self> {
        let admin = connect(&parse_config(admin_url)?)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {admin_url}"))?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            admin,
            run_tag: run_tag.to_owned(),
            created: Vec::new(),
        })
    }

    pub fn admin_config(&self) -> anyhow::Result<Config> {
        parse_config(&self.admin_url)
    }

    /// Creates `gird_bench_<run tag>_<suffix>`.
    pub async fn create(&mut self, suffix: &str) -> anyhow::Result<Throwaway> {
        let name = format!("gird_bench_{}_{suffix}", self.run_tag);
        self.created.push(name.clone());
        self.admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        let url = url_with_database(&self.admin_url, &name)?;
        let config = parse_config(&url)?;
        Ok(Throwaway { name, url, config })
    }

    /// Drops every database of the run, forcing off any connection left behind;
    /// a failure is reported, not fatal, so the others still go.
    pub async fn drop_all(&mut self) {
        for name in std::mem::take(&mut self.created) {
            let dropped = self
                .admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            if let Err(error) = dropped {
                eprintln!("gird-bench: could not drop database {name}: {error}");
            }
        }
    }
}

fn parse_config(url: &str) -> anyhow::Result<Config> {
    let mut config: Config = url
        .parse()
        .with_context(|| format!("{url:?} is not a PostgreSQL URL"))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("gird-bench");
    Ok(config)
}

pub async fn connect(config: &Config) -> anyhow::Result<Client> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        // A broken connection shows up as an error of the next query.
        let _ = connection.await;
    });
    Ok(client)
}

/// `postgres://user@host:port/old?options` with `database` in place of `old`.
pub fn url_with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("{url:?}: give the PostgreSQL server as a postgres:// URL");
    };
    if scheme != "postgres" && scheme != "postgresql" {
        bail!("{url:?}: give the PostgreSQL server as a postgres:// URL");
    }
    let (location, options) = match rest.split_once('?') {
        Some((location, options)) => (location, format!("?{options}")),
        None => (rest, String::new()),
    };
    let authority = location.split_once('/').map_or(location, |(host, _)| host);
    Ok(format!("{scheme}://{authority}/{database}{options}"))
}

/// Rows in `recordings` of a throwaway database.
pub async fn count_recordings(database: &Throwaway) -> anyhow::Result<i64> {
    let client = connect(&database.config).await?;
    let row = client
        .query_one("SELECT count(*) FROM recordings", &[])
        .await
        .with_context(|| format!("counting the rows of {}", database.name))?;
    Ok(row.get(0))
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
}
