//! What the server does, apart from how a request or a command asks for it: each module
//! decides one thing in one place, for every edge that asks (the HTTP routes, and for
//! reposting the `gird repost` command too).

pub(crate) mod deletion;
pub(crate) mod hold;
pub mod repost;
