//! asa-client against the real server on 127.0.0.1 port 0 (SQLite in a temp dir) with
//! asa-sim as Amazon. One binary.

mod batches;
mod calls;
mod deadline;
mod harness;
mod never;
mod vectors;
mod waits;
mod webhook;
