//! Integration tests of asa-sim over real loopback sockets, one binary.

mod faults;
mod pages;
mod serving;
mod support;
