//! The product-details area in its table and bullet styles, the best-sellers ranks it
//! holds, the star histogram and the breadcrumb ladder.

use super::pass::{Collected, Slot};
use crate::price::{normalize_digits, parse_count};
use crate::text::clean;
use asa_model::{CategoryLadder, CategoryStep, Marketplace, SalesRank, StarShare};
use indexmap::IndexMap;

/// Labels of the best-sellers rank row, per interface language.
const RANK_LABELS: &[&str] = &[
    "best sellers rank",
    "bestseller-rang",
    "amazon bestseller",
    "clasificación en los más vendidos",
    "ranking dos mais vendidos",
    "classement des meilleures ventes",
    "posizione nella classifica",
    "plaats in bestsellerlijst",
    "ranking najlepiej",
    "rangordning bästsäljare",
    "en çok satanlar",
    "الأفضل مبيعاً",
    "売れ筋ランキング",
];

pub fn is_rank_label(key: &str) -> bool {
    let k = key.to_lowercase();
    RANK_LABELS.iter().any(|l| k.contains(l))
}

/// `name: value` pairs from every detail table row and detail bullet, first one wins.
pub fn product_details(c: &Collected) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    for row in &c.detail_rows {
        let cells: Vec<String> = row.iter().filter_map(|cell| clean(cell)).collect();
        if let [key, value, ..] = cells.as_slice() {
            let key = key.trim_end_matches([':', ' ']).to_string();
            if !key.is_empty() && key.len() < 200 {
                out.entry(key).or_insert_with(|| value.clone());
            }
        }
    }
    let mut last_key: Option<String> = None;
    for item in &c.detail_bullets {
        let Some(text) = clean(item) else { continue };
        // Sub-ranks ("#12 in Relays") are nested items of the rank bullet.
        if starts_with_rank(&text) {
            if let Some(v) = last_key.as_ref().and_then(|k| out.get_mut(k)) {
                v.push(' ');
                v.push_str(&text);
            }
            continue;
        }
        let Some((key, value)) = text.split_once(':') else {
            continue;
        };
        let key = key.trim().to_string();
        let value = value.trim().to_string();
        if key.is_empty() || value.is_empty() || key.len() > 120 {
            continue;
        }
        last_key = Some(key.clone());
        out.entry(key).or_insert(value);
    }
    out
}

fn starts_with_rank(s: &str) -> bool {
    let s = s.trim_start();
    s.starts_with('#')
        || s.starts_with("Nr.")
        || s.starts_with("nº")
        || s.starts_with("Nº")
        || s.starts_with("n.º")
}

/// Ranks from the details' rank row (or the 2013 `#SalesRank` bullet):
/// "#1,234 in Tools (See Top 100 in Tools) #5 in Drills" → two ranks.
pub fn sales_ranks(
    details: &IndexMap<String, String>,
    c: &Collected,
    m: Marketplace,
) -> Vec<SalesRank> {
    let text = details
        .iter()
        .find(|(k, _)| is_rank_label(k))
        .map(|(_, v)| v.clone())
        .or_else(|| clean(c.slot(Slot::SalesRankLegacy)));
    text.map(|t| parse_ranks(&t, m)).unwrap_or_default()
}

/// Splits rank text at every rank marker and reads "N in Category" from each piece.
pub fn parse_ranks(text: &str, m: Marketplace) -> Vec<SalesRank> {
    let text = normalize_digits(text);
    // (where the marker starts, where its number starts)
    let mut starts: Vec<(usize, usize)> = Vec::new();
    for (i, _) in text.char_indices() {
        let rest = &text[i..];
        let marker_len = ["#", "Nr. ", "Nr.", "nº ", "nº", "Nº ", "Nº", "n.º "]
            .iter()
            .find(|mk| rest.starts_with(**mk))
            .map(|mk| mk.len());
        if let Some(len) = marker_len {
            if rest[len..].starts_with(|c: char| c.is_ascii_digit()) {
                starts.push((i, i + len));
            }
        }
    }
    let mut out = Vec::new();
    for (n, &(_, s)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map(|p| p.0).unwrap_or(text.len());
        let piece = &text[s..end];
        let digits_end = piece
            .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.' || c == '\u{a0}'))
            .unwrap_or(piece.len());
        let Some(rank) = parse_count(&piece[..digits_end], m) else {
            continue;
        };
        let rest = piece[digits_end..].trim_start();
        // Skip the connector word: in / en / em / dans / in / في.
        let rest = rest.split_once(' ').map(|(_, r)| r).unwrap_or("");
        let category = rest.split('(').next().unwrap_or("").trim();
        let category = category.trim_end_matches(|c: char| c == ',' || c.is_whitespace());
        if !category.is_empty() && rank > 0 {
            out.push(SalesRank {
                category: category.to_string(),
                rank,
            });
        }
    }
    out
}

/// Star histogram rows ("5 star 74%") as shares per star.
pub fn star_distribution(c: &Collected) -> Option<Vec<StarShare>> {
    let mut out: Vec<StarShare> = Vec::new();
    for row in &c.histogram {
        let Some(text) = clean(row) else { continue };
        let text = normalize_digits(&text).replace('\u{066a}', "%");
        let Some((star, pct)) = star_row(&text) else {
            continue;
        };
        if (0.0..=100.0).contains(&pct) && !out.iter().any(|s| s.rating == star) {
            out.push(StarShare {
                rating: star,
                percentage: pct,
            });
        }
    }
    (!out.is_empty()).then(|| {
        out.sort_by_key(|s| std::cmp::Reverse(s.rating));
        out
    })
}

/// (stars, percent) of one histogram row. The row's star is the last lone digit before
/// its percentage: newer rows repeat every star label in hidden text before their own.
fn star_row(text: &str) -> Option<(u8, f64)> {
    let pct_at = text.rfind('%')?;
    let before = text[..pct_at].trim_end();
    let digits_len: usize = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .map(char::len_utf8)
        .sum();
    let pct = before[before.len() - digits_len..]
        .replace(',', ".")
        .parse::<f64>()
        .ok()?;
    let label = &before.as_bytes()[..before.len() - digits_len];
    let star = (0..label.len()).rev().find_map(|i| {
        // A star label digit stands alone and is not itself a percentage.
        let next = label[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
        let lone = label[i].is_ascii_digit()
            && !label.get(i + 1).is_some_and(u8::is_ascii_digit)
            && !(i > 0 && label[i - 1].is_ascii_digit())
            && next != Some(&b'%');
        (lone && (b'1'..=b'5').contains(&label[i])).then(|| label[i] - b'0')
    })?;
    Some((star, pct))
}

/// The breadcrumb ladder; `rank` is the page's rank in one of its steps, when the
/// best-sellers list names it.
pub fn category(c: &Collected, host: &str, ranks: &[SalesRank]) -> Vec<CategoryLadder> {
    let ladder: Vec<CategoryStep> = c
        .breadcrumbs
        .iter()
        .filter_map(|(name, href)| {
            let name = clean(name)?;
            Some(CategoryStep {
                name,
                url: href
                    .as_deref()
                    .map(|h| absolute(&crate::text::decode_entities(h), host)),
            })
        })
        .collect();
    if ladder.is_empty() {
        return Vec::new();
    }
    let rank = ranks
        .iter()
        .find(|r| ladder.iter().any(|s| s.name == r.category))
        .map(|r| r.rank);
    vec![CategoryLadder { ladder, rank }]
}

/// Makes a page link absolute on the marketplace host.
pub fn absolute(href: &str, host: &str) -> String {
    if href.starts_with("http://") || href.starts_with("https://") {
        href.to_string()
    } else if let Some(rest) = href.strip_prefix("//") {
        format!("https://{rest}")
    } else if href.starts_with('/') {
        format!("https://{host}{href}")
    } else {
        format!("https://{host}/{href}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Marketplace::*;

    #[test]
    fn ranks_in_languages() {
        let r = parse_ranks("#420,998 in Automotive (See Top 100 in Automotive) #139 in Automotive Replacement Relays", Us);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].rank, r[0].category.as_str()), (420998, "Automotive"));
        assert_eq!(
            (r[1].rank, r[1].category.as_str()),
            (139, "Automotive Replacement Relays")
        );
        let r = parse_ranks(
            "Nr. 1.234 in Küche, Haushalt & Wohnen (Siehe Top 100 in Küche) Nr. 5 in Wasserkocher",
            De,
        );
        assert_eq!(
            (r[0].rank, r[0].category.as_str()),
            (1234, "Küche, Haushalt & Wohnen")
        );
        assert_eq!((r[1].rank, r[1].category.as_str()), (5, "Wasserkocher"));
        let r = parse_ranks(
            "nº 12.345 en Hogar y cocina (Ver el Top 100 en Hogar y cocina)",
            Es,
        );
        assert_eq!(
            (r[0].rank, r[0].category.as_str()),
            (12345, "Hogar y cocina")
        );
        assert!(parse_ranks("no rank here", Us).is_empty());
    }

    #[test]
    fn histogram_rows() {
        let c = Collected {
            histogram: vec![
                "5 star 4 star 3 star 2 star 1 star 5 star 71%".into(),
                "5 star 4 star 3 star 2 star 1 star 4 star 71% 18% 5% 18%".into(),
                "\u{0663} نجوم \u{0665}\u{066a}".into(),
                "no share".into(),
            ],
            ..Default::default()
        };
        let d = star_distribution(&c).unwrap_or_default();
        let got: Vec<(u8, f64)> = d.iter().map(|s| (s.rating, s.percentage)).collect();
        assert_eq!(got, vec![(5, 71.0), (4, 18.0), (3, 5.0)]);
    }

    #[test]
    fn links() {
        assert_eq!(
            absolute("/gp/bestsellers", "www.amazon.de"),
            "https://www.amazon.de/gp/bestsellers"
        );
        assert_eq!(absolute("https://x/y", "www.amazon.de"), "https://x/y");
    }
}
