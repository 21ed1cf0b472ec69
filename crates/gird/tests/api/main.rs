//! Black-box tests of the `gird` binary over HTTP: each test starts the real server on
//! a random port with a fresh data folder (see `helpers`).

mod auth;
mod body;
mod client;
mod config;
mod csrf;
mod datetimes;
mod delete;
mod durability;
mod helpers;
mod insertion;
mod limits;
mod merge;
mod ops;
mod paging;
mod playback;
mod read;
mod recording;
mod rws;
mod search;
mod storage;
mod validation;
mod webdav;
mod webdav_e2e;
