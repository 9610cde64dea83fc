//! Integration tests of asa-upstream against small real servers on 127.0.0.1 that stand
//! in for Amazon and for exit proxies (one test binary, several modules).

mod admission;
mod failures;
mod fingerprints;
mod pages;
mod requests;
mod retries;
mod sessions;
mod simtls;
mod support;
