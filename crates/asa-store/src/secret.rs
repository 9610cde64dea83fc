//! Key material and ids: generation, hashing and the constant-time comparison.

use asa_model::key::SECRET_LEN;
use asa_model::{ApiKey, KeyKind};
use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh key: the prefix of its kind and 32 base62 characters from the OS-seeded CSPRNG.
pub(crate) fn generate_key(kind: KeyKind) -> ApiKey {
    let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), SECRET_LEN);
    let full = format!("{}{secret}", kind.prefix());
    ApiKey::parse(&full).unwrap_or_else(|| unreachable!("a generated key is always well-formed"))
}

/// SHA-256 of the full key, hex. Keys carry 190 bits of entropy, so a fast hash suffices.
pub(crate) fn key_hash(key: &ApiKey) -> String {
    hex::encode(Sha256::digest(key.expose().as_bytes()))
}

pub(crate) fn hashes_match(stored: &str, presented: &str) -> bool {
    stored.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// A dashboard session token (or CSRF token): 256 bits from the CSPRNG, hex.
pub(crate) fn session_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a session token, hex: what the store keeps, so a copy of the database does
/// not sign anyone in.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `prefix` + 16 lowercase hex characters.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::thread_rng().next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use asa_model::key::SHORT_PREFIX_LEN;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate_key(KeyKind::Live);
        let b = generate_key(KeyKind::Live);
        assert_ne!(a, b);
        assert!(a.expose().starts_with("asa_live_"));
        assert_eq!(a.expose().len(), "asa_live_".len() + SECRET_LEN);
        assert_eq!(a.short_prefix().len(), SHORT_PREFIX_LEN);
        assert_eq!(generate_key(KeyKind::Test).kind(), KeyKind::Test);
    }

    #[test]
    fn hashes_compare() {
        let a = generate_key(KeyKind::Live);
        let b = generate_key(KeyKind::Live);
        assert_eq!(key_hash(&a).len(), 64);
        assert!(hashes_match(&key_hash(&a), &key_hash(&a)));
        assert!(!hashes_match(&key_hash(&a), &key_hash(&b)));
        assert!(!key_hash(&a).contains(&a.expose()[9..]));
    }

    #[test]
    fn ids() {
        let id = new_id("acc_");
        assert_eq!(id.len(), 20);
        assert!(id[4..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
