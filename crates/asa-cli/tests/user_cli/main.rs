//! The `asa` binary's user commands, run as a child process against the real server on
//! 127.0.0.1 port 0 (SQLite in a temp dir) with asa-sim as Amazon. One binary.

mod bulk;
mod commands;
mod harness;
mod interrupt;
