//! Black-box tests of the `gird` binary over HTTP: each test starts the real server on
//! a random port with a fresh data folder (see `helpers`), on SQLite or, with
//! `GIRD_TEST_BACKEND=postgres`, on a fresh PostgreSQL database (see `database`).

mod access;
mod attacks;
mod auth;
mod body;
mod client;
mod cluster;
mod config;
mod cors;
mod csrf;
mod database;
mod datetimes;
mod delete;
mod durability;
mod hardening;
mod helpers;
mod import;
mod import_hrefs;
mod insertion;
mod instances;
mod limits;
mod merge;
mod observe;
mod ops;
mod outage;
mod outbound;
mod paging;
mod playback;
mod postgres;
mod read;
mod receiver;
mod recording;
mod rws;
mod s3;
mod s3_e2e;
mod s3_import;
mod s3_playback;
mod s3_storage;
mod search;
mod speechminer;
mod storage;
mod ui;
mod validation;
mod webdav;
mod webdav_e2e;
