//! Integration tests: the real server on port 0 with a real SQLite file. One binary.

mod helpers;
mod surface;
