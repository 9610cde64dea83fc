//! Fetch products and print one line each, with the retry policy's attempts shown.
//!
//! ```sh
//! asa serve                                   # prints a sandbox key on first start
//! ASA_API_KEY=asa_test_... cargo run -p asa-client --example quickstart -- B000LQXC2Q B0NOTFND01
//! ```

use asa_client::{Client, Next, ProductParams};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let client = match Client::builder()
        .observer(|e| {
            if let Next::Retry(d) = e.next {
                eprintln!(
                    "attempt {} got {}; retrying in {:.1} s",
                    e.attempt.number,
                    e.attempt.code.as_deref().unwrap_or("?"),
                    d.as_secs_f64()
                );
            }
        })
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.one_line());
            return std::process::ExitCode::from(2);
        }
    };
    let mut failed = false;
    for asin in std::env::args().skip(1) {
        match client.product(ProductParams::new(asin.as_str())).await {
            Ok(p) => println!(
                "{asin}: {} ({} {}) [{}]",
                p.data.title.as_deref().unwrap_or("-"),
                p.data.price.map_or("-".to_string(), |v| v.to_string()),
                p.data.currency.as_deref().unwrap_or(""),
                p.request_id()
            ),
            Err(e) => {
                failed = true;
                eprintln!("{asin}: {}", e.one_line());
            }
        }
    }
    std::process::ExitCode::from(u8::from(failed))
}
