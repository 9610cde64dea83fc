//! Any text as an API key: the shape check must agree with the documented format
//! (`asa_live_` / `asa_test_` + 32 ASCII letters and digits), never panic, and never let
//! the secret into `Debug` output.
#![no_main]

use asa_model::{ApiKey, KeyKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let documented = ["asa_live_", "asa_test_"].iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    let parsed = ApiKey::parse(s);
    assert_eq!(parsed.is_some(), documented, "{s:?}");
    if let Some(key) = parsed {
        assert_eq!(key.expose(), s);
        let prefix = match key.kind() {
            KeyKind::Live => "asa_live_",
            KeyKind::Test => "asa_test_",
        };
        assert!(s.starts_with(prefix));
        assert_eq!(key.short_prefix(), &s[9..21]);
        // The part after the short prefix is the secret: it must not be printed.
        let debug = format!("{key:?}");
        assert!(!debug.contains(&s[21..]), "{debug}");
    }
});
