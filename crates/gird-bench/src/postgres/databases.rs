//! Throwaway databases, one per measured configuration: created on an admin
//! connection and dropped at the end of the run, whatever happened in between.

use std::time::Duration;

use anyhow::Context;
use gird_testkit::TestDatabase;
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
    run_tag: String,
    /// Every database of the run, dropped by [`Databases::drop_all`].
    created: Vec<TestDatabase>,
    /// Names whose CREATE failed, so cleanup also covers one the server made after all.
    failed: Vec<String>,
}

impl Databases {
    pub async fn connect(admin_url: &str, run_tag: &str) -> anyhow::Result<Self> {
        // Fail at once on a server that is not there, not at the first database.
        connect(&parse_config(admin_url)?)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {admin_url}"))?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            run_tag: run_tag.to_owned(),
            created: Vec::new(),
            failed: Vec::new(),
        })
    }

    pub fn admin_config(&self) -> anyhow::Result<Config> {
        parse_config(&self.admin_url)
    }

    /// Creates `gird_bench_<run tag>_<suffix>` (with gird-testkit's throwaway databases).
    pub async fn create(&mut self, suffix: &str) -> anyhow::Result<Throwaway> {
        let name = format!("gird_bench_{}_{suffix}", self.run_tag);
        let database = match TestDatabase::create_on(&self.admin_url, &name).await {
            Ok(database) => database,
            Err(error) => {
                self.failed.push(name);
                return Err(error.into());
            }
        };
        let url = database.url().to_owned();
        self.created.push(database);
        let config = parse_config(&url)?;
        Ok(Throwaway { name, url, config })
    }

    /// Drops every database of the run, forcing off any connection left behind;
    /// a failure is reported, not fatal, so the others still go.
    pub async fn drop_all(&mut self) {
        let mut results = Vec::new();
        for database in std::mem::take(&mut self.created) {
            let name = database.name().to_owned();
            results.push((name, database.drop().await));
        }
        for name in std::mem::take(&mut self.failed) {
            let dropped = gird_testkit::drop_database(&self.admin_url, &name).await;
            results.push((name, dropped));
        }
        for (name, dropped) in results {
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

/// Rows in `recordings` of a throwaway database.
pub async fn count_recordings(database: &Throwaway) -> anyhow::Result<i64> {
    let client = connect(&database.config).await?;
    let row = client
        .query_one("SELECT count(*) FROM recordings", &[])
        .await
        .with_context(|| format!("counting the rows of {}", database.name))?;
    Ok(row.get(0))
}
