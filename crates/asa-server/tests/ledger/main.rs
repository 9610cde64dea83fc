//! The ledger and limits properties through the real server: a mixed load of every outcome
//! (2xx, each error code, 402 from a balance that runs out, 429, 503, client disconnects)
//! on SQLite, on PostgreSQL (`DATABASE_URL`), and on three nodes sharing PostgreSQL and Redis
//! (`DATABASE_URL` and `REDIS_URL`); auto-top-up, the account view and the rate token a 503
//! gives back. One binary.

mod credits;
mod harness;
mod limits;
mod mixed;
mod nodes;
mod property;
