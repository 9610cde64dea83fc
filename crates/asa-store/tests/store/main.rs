//! The store suite: every test runs on SQLite (a temporary file) and, when `DATABASE_URL`
//! names a PostgreSQL database, on PostgreSQL in a schema of its own.

mod accounts;
mod backend;
mod backup;
mod batches;
mod dashboard;
mod keys;
mod ledger;
mod ledger_concurrency;
mod open;
mod traces;

/// Generates one `#[tokio::test]` per backend for each listed `async fn(Backend)`.
#[macro_export]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = $crate::backend::Backend::sqlite(None).await;
                    super::$name(&backend).await;
                    backend.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(backend) = $crate::backend::Backend::postgres(None).await else {
                        return;
                    };
                    super::$name(&backend).await;
                    backend.finish().await;
                }
            )*
        }
    };
}
