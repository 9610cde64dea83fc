//! The 20 Amazon marketplaces asa serves, each with its host, country, currency, number
//! locale and the interface languages Amazon offers on it.

use serde::{Deserialize, Serialize};

/// How a marketplace writes numbers: which character separates decimals, which groups
/// thousands, and how many decimals its currency shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberLocale {
    pub decimal: char,
    /// The primary thousands separator; pages also use spaces (plain, no-break, narrow).
    pub group: char,
    pub currency_decimals: u8,
}

const DOT: NumberLocale = NumberLocale {
    decimal: '.',
    group: ',',
    currency_decimals: 2,
};
const COMMA: NumberLocale = NumberLocale {
    decimal: ',',
    group: '.',
    currency_decimals: 2,
};
const SPACE: NumberLocale = NumberLocale {
    decimal: ',',
    group: '\u{a0}',
    currency_decimals: 2,
};
const YEN: NumberLocale = NumberLocale {
    decimal: '.',
    group: ',',
    currency_decimals: 0,
};

/// One Amazon marketplace, named by its top-level domain (`domain` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Marketplace {
    #[serde(rename = "com")]
    Us,
    #[serde(rename = "co.uk")]
    Uk,
    #[serde(rename = "de")]
    De,
    #[serde(rename = "fr")]
    Fr,
    #[serde(rename = "it")]
    It,
    #[serde(rename = "es")]
    Es,
    #[serde(rename = "nl")]
    Nl,
    #[serde(rename = "pl")]
    Pl,
    #[serde(rename = "se")]
    Se,
    #[serde(rename = "ca")]
    Ca,
    #[serde(rename = "com.mx")]
    Mx,
    #[serde(rename = "com.br")]
    Br,
    #[serde(rename = "com.au")]
    Au,
    #[serde(rename = "co.jp")]
    Jp,
    #[serde(rename = "sg")]
    Sg,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "com.tr")]
    Tr,
    #[serde(rename = "ae")]
    Ae,
    #[serde(rename = "sa")]
    Sa,
    #[serde(rename = "eg")]
    Eg,
}

struct Info {
    domain: &'static str,
    country: &'static str,
    currency: &'static str,
    locale: NumberLocale,
    /// Interface languages as Amazon offers them on this marketplace; the first is the
    /// default. The union of Amazon's per-locale lists and the lists SerpApi and Oxylabs
    /// publish (where they disagree, both are accepted).
    languages: &'static [&'static str],
}

impl Marketplace {
    pub const ALL: [Marketplace; 20] = [
        Marketplace::Us,
        Marketplace::Uk,
        Marketplace::De,
        Marketplace::Fr,
        Marketplace::It,
        Marketplace::Es,
        Marketplace::Nl,
        Marketplace::Pl,
        Marketplace::Se,
        Marketplace::Ca,
        Marketplace::Mx,
        Marketplace::Br,
        Marketplace::Au,
        Marketplace::Jp,
        Marketplace::Sg,
        Marketplace::In,
        Marketplace::Tr,
        Marketplace::Ae,
        Marketplace::Sa,
        Marketplace::Eg,
    ];

    fn info(self) -> &'static Info {
        use Marketplace::*;
        match self {
            Us => &Info {
                domain: "com",
                country: "US",
                currency: "USD",
                locale: DOT,
                languages: &[
                    "en_US", "es_US", "de_DE", "de_US", "ko_KR", "pt_BR", "zh_CN", "zh_TW",
                    "ar_AE", "he_IL",
                ],
            },
            Uk => &Info {
                domain: "co.uk",
                country: "GB",
                currency: "GBP",
                locale: DOT,
                languages: &["en_GB"],
            },
            De => &Info {
                domain: "de",
                country: "DE",
                currency: "EUR",
                locale: COMMA,
                languages: &[
                    "de_DE", "en_GB", "cs_CZ", "nl_NL", "pl_PL", "tr_TR", "da_DK",
                ],
            },
            Fr => &Info {
                domain: "fr",
                country: "FR",
                currency: "EUR",
                locale: SPACE,
                languages: &["fr_FR", "en_GB"],
            },
            It => &Info {
                domain: "it",
                country: "IT",
                currency: "EUR",
                locale: COMMA,
                languages: &["it_IT", "en_GB"],
            },
            Es => &Info {
                domain: "es",
                country: "ES",
                currency: "EUR",
                locale: COMMA,
                languages: &["es_ES", "pt_PT", "en_GB"],
            },
            Nl => &Info {
                domain: "nl",
                country: "NL",
                currency: "EUR",
                locale: COMMA,
                languages: &["nl_NL", "en_GB"],
            },
            Pl => &Info {
                domain: "pl",
                country: "PL",
                currency: "PLN",
                locale: SPACE,
                languages: &["pl_PL", "en_GB"],
            },
            Se => &Info {
                domain: "se",
                country: "SE",
                currency: "SEK",
                locale: SPACE,
                languages: &["sv_SE", "en_GB"],
            },
            Ca => &Info {
                domain: "ca",
                country: "CA",
                currency: "CAD",
                locale: DOT,
                languages: &["en_CA", "fr_CA"],
            },
            Mx => &Info {
                domain: "com.mx",
                country: "MX",
                currency: "MXN",
                locale: DOT,
                languages: &["es_MX"],
            },
            Br => &Info {
                domain: "com.br",
                country: "BR",
                currency: "BRL",
                locale: COMMA,
                languages: &["pt_BR"],
            },
            Au => &Info {
                domain: "com.au",
                country: "AU",
                currency: "AUD",
                locale: DOT,
                languages: &["en_AU"],
            },
            Jp => &Info {
                domain: "co.jp",
                country: "JP",
                currency: "JPY",
                locale: YEN,
                languages: &["ja_JP", "en_US", "zh_CN"],
            },
            Sg => &Info {
                domain: "sg",
                country: "SG",
                currency: "SGD",
                locale: DOT,
                languages: &["en_SG"],
            },
            In => &Info {
                domain: "in",
                country: "IN",
                currency: "INR",
                locale: DOT,
                languages: &[
                    "en_IN", "hi_IN", "ta_IN", "te_IN", "kn_IN", "ml_IN", "bn_IN", "mr_IN",
                ],
            },
            Tr => &Info {
                domain: "com.tr",
                country: "TR",
                currency: "TRY",
                locale: COMMA,
                languages: &["tr_TR"],
            },
            Ae => &Info {
                domain: "ae",
                country: "AE",
                currency: "AED",
                locale: DOT,
                languages: &["en_AE", "ar_AE"],
            },
            Sa => &Info {
                domain: "sa",
                country: "SA",
                currency: "SAR",
                locale: DOT,
                languages: &["ar_AE", "en_AE", "ar_SA"],
            },
            Eg => &Info {
                domain: "eg",
                country: "EG",
                currency: "EGP",
                locale: DOT,
                languages: &["ar_AE", "en_AE", "ar_EG"],
            },
        }
    }

    /// The TLD the API names it by (`com`, `co.uk`, ...).
    pub fn domain(self) -> &'static str {
        self.info().domain
    }

    /// The storefront host, `www.amazon.<domain>`.
    pub fn host(self) -> String {
        format!("www.amazon.{}", self.domain())
    }

    /// ISO 3166-1 alpha-2 country of the marketplace (`GB` for `co.uk`).
    pub fn country(self) -> &'static str {
        self.info().country
    }

    /// ISO 4217 currency code.
    pub fn currency(self) -> &'static str {
        self.info().currency
    }

    pub fn locale(self) -> NumberLocale {
        self.info().locale
    }

    pub fn languages(self) -> &'static [&'static str] {
        self.info().languages
    }

    pub fn default_language(self) -> &'static str {
        self.info().languages[0]
    }

    pub fn accepts_language(self, language: &str) -> bool {
        self.languages().contains(&language)
    }

    /// Parses the API's `domain` value (`com`, `co.uk`, ...). Case-insensitive; a leading
    /// `amazon.` or `www.amazon.` is tolerated.
    pub fn from_domain(s: &str) -> Option<Marketplace> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_prefix("www.").unwrap_or(&s);
        let s = s.strip_prefix("amazon.").unwrap_or(s);
        Self::ALL.into_iter().find(|m| m.domain() == s)
    }

    /// The marketplace whose storefront is this host (`www.amazon.de`, `amazon.de`,
    /// `smile.amazon.com`, `m.amazon.co.jp`).
    pub fn from_host(host: &str) -> Option<Marketplace> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let idx = host.find("amazon.")?;
        // Only the registrable `amazon.<tld>` counts, with at most a subdomain before it.
        if idx > 0 && !host[..idx].ends_with('.') {
            return None;
        }
        Self::from_domain(&host[idx + "amazon.".len()..])
    }

    /// All domain values, for error messages and docs.
    pub fn domains() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(|m| m.domain())
    }
}

impl std::fmt::Display for Marketplace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.domain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_distinct_marketplaces_with_a_default_language() {
        let mut domains: Vec<_> = Marketplace::domains().collect();
        domains.sort();
        domains.dedup();
        assert_eq!(domains.len(), 20);
        for m in Marketplace::ALL {
            assert_eq!(Marketplace::from_domain(m.domain()), Some(m));
            assert!(m.accepts_language(m.default_language()));
            assert_eq!(m.country().len(), 2);
            assert_eq!(m.currency().len(), 3);
        }
    }

    #[test]
    fn spec_examples_for_languages() {
        for l in [
            "de_DE", "en_GB", "cs_CZ", "nl_NL", "pl_PL", "tr_TR", "da_DK",
        ] {
            assert!(Marketplace::De.accepts_language(l), "{l}");
        }
        assert!(Marketplace::Ca.accepts_language("fr_CA"));
        assert!(!Marketplace::Ca.accepts_language("de_DE"));
        assert!(!Marketplace::Uk.accepts_language("en_us"));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            Marketplace::from_host("www.amazon.co.uk"),
            Some(Marketplace::Uk)
        );
        assert_eq!(Marketplace::from_host("amazon.com"), Some(Marketplace::Us));
        assert_eq!(
            Marketplace::from_host("smile.amazon.com"),
            Some(Marketplace::Us)
        );
        assert_eq!(Marketplace::from_host("www.amazon.cn"), None);
        assert_eq!(Marketplace::from_host("notamazon.com"), None);
        assert_eq!(Marketplace::from_host("www.amazon.com.evil.io"), None);
    }
}
