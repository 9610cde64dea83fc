//! The ids and the unit of the ledger as types of their own: an account id, a key id, a
//! request id and an amount of credits are four different things that the store, the server
//! and the CLI pass around by the hundred. As plain strings and integers one could be handed
//! where another was meant (a key id to `keys(account_id)`, a balance where a cost belongs)
//! and the compiler would not say so.
//!
//! On the wire and in the database they stay what they were: a string and an integer
//! (`#[serde(transparent)]`), so no document or row changes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Binds and reads a newtype exactly as the value it wraps, on every database sqlx knows.
#[cfg(feature = "sqlx")]
macro_rules! sql_transparent {
    ($name:ident, $inner:ty, $wrap:expr, $get:expr) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            $inner: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <$inner as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <$inner as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            $inner: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let get: fn(&$name) -> $inner = $get;
                get(self).encode(buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            $inner: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<$name, sqlx::error::BoxDynError> {
                let wrap: fn($inner) -> $name = $wrap;
                Ok(wrap(<$inner as sqlx::Decode<'r, DB>>::decode(value)?))
            }
        }
    };
}

/// An id that is not of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}: expected {prefix} followed by letters, digits, `_` or `.`")]
pub struct IdError {
    kind: &'static str,
    prefix: &'static str,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// What every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Wraps an id read from the store or made by its generator. The shape is not
            /// checked here: an id a caller typed is checked with [`Self::parse`].
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            /// An id a caller gave: the prefix followed by 1 to 64 ASCII letters, digits,
            /// `_` or `.` (a search page's reservation is `req_<hex>.p2`).
            pub fn parse(s: &str) -> Option<$name> {
                let rest = s.strip_prefix($prefix)?;
                let ok = !rest.is_empty()
                    && rest.len() <= 64
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                ok.then(|| $name(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        /// Parses an id a caller typed (a CLI argument, a path segment): see [`Self::parse`].
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<$name, IdError> {
                $name::parse(s).ok_or_else(|| IdError {
                    kind: stringify!($name),
                    prefix: $prefix,
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Reads as the string it is (`starts_with`, `len`, `Option::as_deref`); the
        /// other way, a `&str` never passes for an id.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        #[cfg(feature = "sqlx")]
        sql_transparent!($name, String, $name, |id| id.0.clone());
    };
}

string_id!(
    /// An account (workspace): `acc_` + 16 lowercase hex.
    AccountId,
    "acc_"
);
string_id!(
    /// An API key's record (never the key itself): `key_` + 16 lowercase hex.
    KeyId,
    "key_"
);
string_id!(
    /// One API request, the id its trace and its ledger lines are found by: `req_` + 12
    /// lowercase hex (a batch item's run: `req_` + a digest of batch, index and run).
    RequestId,
    "req_"
);

/// An amount of credits: a cost, a balance, a top-up. Signed, because the ledger's
/// arithmetic (a balance after a late charge is checked before it is written) needs it;
/// the store never lets a balance below zero.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Credits(pub i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

#[cfg(feature = "sqlx")]
sql_transparent!(Credits, i64, Credits, |c| c.0);

impl From<Credits> for i64 {
    fn from(c: Credits) -> i64 {
        c.0
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Add for Credits {
    type Output = Credits;
    fn add(self, rhs: Credits) -> Credits {
        Credits(self.0 + rhs.0)
    }
}

impl Sub for Credits {
    type Output = Credits;
    fn sub(self, rhs: Credits) -> Credits {
        Credits(self.0 - rhs.0)
    }
}

impl Neg for Credits {
    type Output = Credits;
    fn neg(self) -> Credits {
        Credits(-self.0)
    }
}

impl AddAssign for Credits {
    fn add_assign(&mut self, rhs: Credits) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Credits {
    fn sub_assign(&mut self, rhs: Credits) {
        self.0 -= rhs.0;
    }
}

impl Sum for Credits {
    fn sum<I: Iterator<Item = Credits>>(iter: I) -> Credits {
        Credits(iter.map(|c| c.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_wire_shape() {
        let a = AccountId::new("acc_0123456789abcdef");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"acc_0123456789abcdef\""
        );
        let back: AccountId = serde_json::from_str("\"acc_0123456789abcdef\"").unwrap();
        assert_eq!(back, a);
        assert_eq!(serde_json::to_string(&Credits(-5)).unwrap(), "-5");
    }

    #[test]
    fn parse_checks_the_prefix_and_the_characters() {
        assert!(KeyId::parse("key_0123456789abcdef").is_some());
        assert!(KeyId::parse("acc_0123456789abcdef").is_none());
        assert!(KeyId::parse("key_").is_none());
        assert!(KeyId::parse("key_../etc").is_none());
        assert!(RequestId::parse(&format!("req_{}", "a".repeat(65))).is_none());
    }

    #[test]
    fn credits_add_up() {
        let total: Credits = [Credits(5), Credits(1), Credits(5)].into_iter().sum();
        assert_eq!(total, Credits(11));
        assert_eq!(total - Credits(11), Credits::ZERO);
        assert!(!(-total).is_positive());
    }
}
