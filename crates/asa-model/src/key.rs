//! The API key format: `asa_live_` or `asa_test_` followed by 32 base62 characters. The 12
//! characters after the prefix are the key's public short prefix.

/// Whether a key bills real fetches or is served by the built-in simulator for free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Live,
    Test,
}

impl KeyKind {
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Live => "asa_live_",
            KeyKind::Test => "asa_test_",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Live => "live",
            KeyKind::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "live" => Some(KeyKind::Live),
            "test" => Some(KeyKind::Test),
            _ => None,
        }
    }
}

pub const SECRET_LEN: usize = 32;
pub const SHORT_PREFIX_LEN: usize = 12;

/// A well-formed key as a client sent it. Formatting never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    full: String,
    kind: KeyKind,
}

impl ApiKey {
    /// Checks the shape only; whether the key exists is the store's business.
    pub fn parse(s: &str) -> Option<ApiKey> {
        let kind = [KeyKind::Live, KeyKind::Test]
            .into_iter()
            .find(|k| s.starts_with(k.prefix()))?;
        let secret = &s[kind.prefix().len()..];
        (secret.len() == SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric())).then(
            || ApiKey {
                full: s.to_string(),
                kind,
            },
        )
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The 12 characters after `asa_live_` / `asa_test_`: safe to log and list.
    pub fn short_prefix(&self) -> &str {
        &self.full[self.kind.prefix().len()..self.kind.prefix().len() + SHORT_PREFIX_LEN]
    }

    /// The full secret, for hashing. Never log it.
    pub fn expose(&self) -> &str {
        &self.full
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}{}…)", self.kind.prefix(), self.short_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes() {
        let k = ApiKey::parse("asa_live_abcdefghijklmnopqrstuvwxyz012345").unwrap();
        assert_eq!(k.kind(), KeyKind::Live);
        assert_eq!(k.short_prefix(), "abcdefghijkl");
        assert!(!format!("{k:?}").contains("mnop"));
        assert!(ApiKey::parse("asa_live_short").is_none());
        assert!(ApiKey::parse("asa_prod_abcdefghijklmnopqrstuvwxyz012345").is_none());
        assert!(ApiKey::parse("asa_test_abcdefghijklmnopqrstuvwxyz01234-").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = ApiKey::parse(&s);
        }

        #[test]
        fn valid_keys_parse(secret in "[A-Za-z0-9]{32}", live in any::<bool>()) {
            let kind = if live { KeyKind::Live } else { KeyKind::Test };
            let k = ApiKey::parse(&format!("{}{secret}", kind.prefix())).unwrap();
            prop_assert_eq!(k.kind(), kind);
            prop_assert_eq!(k.short_prefix(), &secret[..12]);
        }
    }
}
