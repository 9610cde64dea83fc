//! Integration tests: the real server on port 0 with a real SQLite file. One binary.

mod admission;
mod auth;
mod batches;
mod conn_limit;
mod dashboard;
mod exits;
mod helpers;
mod openapi;
mod params;
mod probes;
mod security;
mod surface;
mod traces;
mod upstream;
