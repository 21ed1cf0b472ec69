//! N gird instances on one PostgreSQL database, each with its own data folder and
//! the same ops password, as they would run behind a load balancer.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::launch::{self, DataDir, GirdLaunch};
use crate::load::{LoadTarget, Workload};
use crate::ops::Session;
use crate::server::ServerProcess;

struct Instance {
    process: ServerProcess,
    session: Session,
    /// Deleted when the instance is dropped, after its process has stopped.
    _data_dir: DataDir,
}

/// The instances running now; empty between configurations.
#[derive(Default)]
pub struct GirdCluster {
    instances: Vec<Instance>,
}

pub struct ClusterLaunch<'a> {
    pub launch: GirdLaunch<'a>,
    pub password: &'a str,
    /// Created through the first instance before the others start, so that no
    /// instance can have cached a contact center list without it.
    pub contact_center: Option<&'a str>,
}

impl GirdCluster {
    pub async fn start(&mut self, count: u32, how: &ClusterLaunch<'_>) -> anyhow::Result<()> {
        for index in 0..count {
            let data_dir = DataDir::new(None)?;
            let (process, mut session) =
                launch::start_gird_with_password(&how.launch, &data_dir, how.password).await?;
            session.log_in().await?;
            // Kept before anything else can fail, so that cleanup stops it.
            self.instances.push(Instance {
                process,
                session,
                _data_dir: data_dir,
            });
            if let (0, Some(contact_center)) = (index, how.contact_center) {
                self.instances[0]
                    .session
                    .prepare_contact_center(contact_center)
                    .await?;
            }
        }
        Ok(())
    }

    /// One load target per instance, all drawing ids from `sequence`.
    pub fn targets(
        &self,
        workload: &Arc<dyn Workload>,
        sequence: &Arc<AtomicU64>,
    ) -> Vec<Arc<LoadTarget>> {
        self.instances
            .iter()
            .map(|instance| {
                Arc::new(LoadTarget {
                    authority: instance.session.authority.clone(),
                    headers: instance.session.headers.clone(),
                    workload: workload.clone(),
                    sequence: sequence.clone(),
                })
            })
            .collect()
    }

    /// The ops session of the first instance.
    pub fn first_session(&self) -> Option<&Session> {
        self.instances.first().map(|instance| &instance.session)
    }

    /// CPU time of all instances together.
    pub fn cpu_time(&self) -> Option<Duration> {
        if self.instances.is_empty() {
            return None;
        }
        self.instances
            .iter()
            .map(|instance| instance.process.cpu_time())
            .sum()
    }

    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        for instance in &mut self.instances {
            instance.process.ensure_running()?;
        }
        Ok(())
    }

    /// Stops every instance (SIGTERM, so each finishes what is in flight).
    pub async fn stop(&mut self) {
        for instance in std::mem::take(&mut self.instances) {
            instance.process.stop().await;
        }
    }
}
