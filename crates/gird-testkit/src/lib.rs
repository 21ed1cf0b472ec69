//! What gird's tests and benchmarks share, so that each is written once:
//!
//! - [`TestDatabase`]: a throwaway PostgreSQL database, uniquely named, on the server at
//!   `GIRD_TEST_POSTGRES_URL` (or one given), dropped `WITH (FORCE)` when done.
//! - [`wait_until_listening`]: a started server child process (`gird serve`, or any
//!   server that prints a ready line), up to the line that says where it listens, with
//!   its standard output read on from then on.

mod postgres;
mod process;

pub use postgres::{
    drop_database, postgres_url, url_with_database, Error, TestDatabase, DEFAULT_POSTGRES_URL,
};
pub use process::{wait_until_listening, Lines, Listening, NotListening, GIRD_LISTENING};
