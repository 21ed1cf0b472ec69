//! The storage backend the suite runs against.
//!
//! `GIRD_TEST_BACKEND` is `sqlite` (the default) or `postgres`. With `postgres`, every
//! spawned app gets a throwaway database of its own ([`TestDatabase`], from gird-testkit,
//! on `GIRD_TEST_POSTGRES_URL`), dropped when the app and its restarts are gone.

pub use gird_testkit::TestDatabase;

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
