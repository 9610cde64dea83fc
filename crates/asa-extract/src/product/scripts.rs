//! Data Amazon keeps in inline scripts (image gallery, twister variations, parent ASIN),
//! found with memmem on the raw bytes: a few microseconds on a 2 MB page, no parse.

use crate::text::{find_from, is_asin, json_value_at};
use asa_model::Variation;
use indexmap::IndexMap;
use serde_json::Value;

/// Biggest JSON value cut out of a script.
const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// High-resolution gallery images from `'colorImages': { 'initial': [...] }`.
pub fn color_images(html: &[u8]) -> Vec<String> {
    let mut from = 0;
    // The first block that parses is the page's own gallery; later ones are templates.
    for _ in 0..4 {
        let Some(at) = find_from(html, b"'colorImages'", from)
            .or_else(|| find_from(html, b"\"colorImages\"", from))
        else {
            break;
        };
        from = at + 13;
        let Some(init) = find_from(html, b"initial", from).filter(|i| *i < from + 64) else {
            continue;
        };
        let Some(arr) = json_value_at(html, init + 8, JSON_LIMIT) else {
            continue;
        };
        let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(arr) else {
            continue;
        };
        let urls: Vec<String> = items
            .iter()
            .filter_map(|it| {
                ["hiRes", "large", "mainUrl"]
                    .iter()
                    .find_map(|k| it.get(k).and_then(Value::as_str))
                    .map(str::to_string)
            })
            .collect();
        if !urls.is_empty() {
            return urls;
        }
    }
    Vec::new()
}

/// Whether the gallery data lists videos: `Some(false)` for an empty list.
pub fn has_videos(html: &[u8]) -> Option<bool> {
    let mut from = 0;
    let mut seen_empty = false;
    for _ in 0..8 {
        let Some(at) = find_from(html, b"\"videos\":[", from) else {
            break;
        };
        from = at + 10;
        match html.get(from) {
            Some(b'{') => return Some(true),
            Some(b']') => seen_empty = true,
            _ => {}
        }
    }
    seen_empty.then_some(false)
}

/// The parent ASIN from the twister / page state (`"parentAsin":"B0..."`).
pub fn parent_asin(html: &[u8]) -> Option<String> {
    let mut from = 0;
    for _ in 0..8 {
        let at = find_from(html, b"\"parentAsin\"", from)?;
        from = at + 12;
        let v = json_value_at(html, from, 64)?;
        if let Ok(Value::String(s)) = serde_json::from_slice::<Value>(v) {
            if is_asin(&s) {
                return Some(s);
            }
        }
    }
    None
}

fn json_after(html: &[u8], key: &[u8]) -> Option<Value> {
    let at = find_from(html, key, 0)?;
    // Only a `key : value` pair, not the key mentioned in code.
    let colon = html
        .get(at + key.len()..at + key.len() + 4)?
        .iter()
        .position(|b| *b == b':')?;
    let v = json_value_at(html, at + key.len() + colon + 1, JSON_LIMIT)?;
    serde_json::from_slice(v).ok()
}

/// Variations from the twister data: `dimensionsDisplay` names the dimensions and
/// `dimensionValuesDisplayData` maps every ASIN to its values; older pages index
/// `variationValues` from `asinVariationValues` instead.
pub fn variations(html: &[u8], selected: Option<&str>) -> Vec<Variation> {
    if memchr::memmem::find(html, b"dimensionValuesDisplayData").is_none()
        && memchr::memmem::find(html, b"asinVariationValues").is_none()
    {
        return Vec::new();
    }
    // Display names ("Size"), else the dimension keys ("size_name").
    let keys: Vec<String> = json_after(html, b"\"dimensions\"")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let names: Vec<String> = json_after(html, b"\"dimensionsDisplay\"")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_else(|| keys.clone());
    let mut out = Vec::new();
    if let Some(Value::Object(map)) = json_after(html, b"\"dimensionValuesDisplayData\"") {
        for (asin, values) in map {
            let Some(values) = values.as_array() else {
                continue;
            };
            let mut dims = IndexMap::new();
            for (i, v) in values.iter().enumerate() {
                if let Some(v) = v.as_str() {
                    let name = names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("dimension_{}", i + 1));
                    dims.insert(name, v.to_string());
                }
            }
            out.push(variation(asin, dims, selected));
        }
        return out;
    }
    // Older layout: dimension keys ("size_name") with value lists and per-ASIN indexes.
    let values = json_after(html, b"\"variationValues\"");
    if let (Some(Value::Object(asins)), Some(Value::Object(values))) =
        (json_after(html, b"\"asinVariationValues\""), values)
    {
        for (asin, idx) in asins {
            let mut dims = IndexMap::new();
            for (i, key) in keys.iter().enumerate() {
                let Some(n) = idx.get(key).and_then(|v| v.as_str()?.parse::<usize>().ok()) else {
                    continue;
                };
                if let Some(v) = values
                    .get(key)
                    .and_then(|l| l.get(n))
                    .and_then(Value::as_str)
                {
                    let name = names.get(i).cloned().unwrap_or_else(|| key.clone());
                    dims.insert(name, v.to_string());
                }
            }
            out.push(variation(asin, dims, selected));
        }
    }
    out
}

fn variation(
    asin: String,
    dimensions: IndexMap<String, String>,
    selected: Option<&str>,
) -> Variation {
    Variation {
        selected: selected == Some(asin.as_str()),
        asin,
        dimensions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallery_images() {
        let page = br#"x 'colorImages': { 'initial': [{"hiRes":"https://i/1.jpg","large":"https://i/1s.jpg"},{"hiRes":null,"large":"https://i/2s.jpg"}]}, 'colorToAsin'"#;
        assert_eq!(
            color_images(page),
            vec!["https://i/1.jpg", "https://i/2s.jpg"]
        );
        assert!(color_images(b"'colorImages': { 'initial': [{\"hiRes\":").is_empty());
    }

    #[test]
    fn twister() {
        let page = br#""dimensionsDisplay" : ["Size","Color"], "dimensionValuesDisplayData" : {"B000000001":["S","Red"],"B000000002":["M","Blue"]}, "parentAsin":"B000000000""#;
        let v = variations(page, Some("B000000002"));
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[1].dimensions.get("Color").map(String::as_str),
            Some("Blue")
        );
        assert!(v[1].selected && !v[0].selected);
        assert_eq!(parent_asin(page).as_deref(), Some("B000000000"));
    }

    #[test]
    fn indexed_twister() {
        let page = br#""dimensions" : ["size_name"], "variationValues" : {"size_name":["S","M"]}, "asinVariationValues" : {"B000000001":{"size_name":"1","ASIN":"B000000001"}}"#;
        let v = variations(page, None);
        assert_eq!(
            v[0].dimensions.get("size_name").map(String::as_str),
            Some("M")
        );
    }

    #[test]
    fn videos() {
        assert_eq!(has_videos(br#""videos":[{"url":"x"}]"#), Some(true));
        assert_eq!(has_videos(br#""videos":[]"#), Some(false));
        assert_eq!(has_videos(b""), None);
    }
}
