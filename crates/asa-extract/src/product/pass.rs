//! The one streaming pass over a product page: lol_html selectors feed per-field text
//! buffers and attribute slots; nothing is decided here, only collected.

pub use super::selectors::Slot;
use super::selectors::{
    AUTHORS, BREADCRUMBS, BULLETS, CURRENCY_CLASS, DETAIL_BULLETS, HISTOGRAM, MOBILE_STARS,
    QUANTITY, SELLER_LINK, SLOT_COUNT, SLOT_SELECTORS, TABLE_CELLS, TABLE_ROWS,
};
use crate::classify::PageSignals;
use lol_html::html_content::{Element, TextChunk, TextType};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

/// Longest text kept per slot: descriptions can be long, everything else is short.
const SLOT_CAP: usize = 64 * 1024;
pub(super) const LIST_CAP: usize = 512;

/// Everything the pass collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub slots: Vec<String>,
    pub(super) active: Vec<bool>,
    /// Open elements, per slot, that the `[id]` dispatch is capturing text from.
    pub(super) id_depth: Vec<u32>,
    pub(super) id_open: u32,
    /// Source offset of the last text chunk pushed per slot: a chunk reaches a slot once,
    /// even when the id dispatch and a selector both cover it.
    pub(super) last_at: Vec<usize>,
    pub canonical: Option<String>,
    pub og_url: Option<String>,
    pub asin_input: Option<String>,
    pub asin_form: Option<String>,
    pub acr_title: Option<String>,
    pub mobile_stars: Option<String>,
    pub image_attrs: Vec<ImageAttrs>,
    pub seller_href: Option<String>,
    pub currency_class: Option<String>,
    pub attach_price: Option<String>,
    pub bullets: Vec<String>,
    pub authors: Vec<String>,
    pub detail_rows: Vec<Vec<String>>,
    pub detail_bullets: Vec<String>,
    pub breadcrumbs: Vec<(String, Option<String>)>,
    pub histogram: Vec<String>,
    pub quantity_max: Option<u32>,
    /// Twister swatches: (ASIN, initially selected), for pages without twister data.
    pub swatches: Vec<(String, bool)>,
    pub prime: bool,
    /// A buy form, add-to-cart button or "see all buying options" button.
    pub buybox_seen: bool,
    /// Only "see all buying options": no buy box, so no price or stock is shown.
    pub see_all_options: bool,
    pub video_marker: bool,
    pub signals: PageSignals,
}

/// Image attributes of one main-image element.
#[derive(Debug, Default, Clone)]
pub struct ImageAttrs {
    pub old_hires: Option<String>,
    /// Mobile pages' `data-a-hires`.
    pub hires: Option<String>,
    pub dynamic: Option<String>,
    pub src: Option<String>,
}

impl Collected {
    pub fn slot(&self, s: Slot) -> &str {
        self.slots.get(s as usize).map(String::as_str).unwrap_or("")
    }

    fn start(&mut self, s: Slot) {
        let i = s as usize;
        // Only the first element that yields text counts.
        let blank = self.slots[i].trim().is_empty();
        if blank {
            self.slots[i].clear();
        }
        self.active[i] = blank;
    }

    fn push(&mut self, s: Slot, t: &str, at: usize) {
        let i = s as usize;
        if (self.active[i] || self.id_depth[i] > 0)
            && self.last_at[i] != at
            && self.slots[i].len() < SLOT_CAP
        {
            self.slots[i].push_str(t);
            self.last_at[i] = at;
        }
    }

    /// An element named by a slot's id opens: capture its text until its end tag, if the
    /// slot has no text yet.
    fn open_id(&mut self, s: Slot) -> bool {
        let i = s as usize;
        if !self.slots[i].trim().is_empty() {
            return false;
        }
        self.slots[i].clear();
        self.id_depth[i] += 1;
        self.id_open += 1;
        true
    }

    fn close_id(&mut self, s: Slot) {
        let i = s as usize;
        self.id_depth[i] = self.id_depth[i].saturating_sub(1);
        self.id_open = self.id_open.saturating_sub(1);
    }

    fn push_open_ids(&mut self, t: &str, at: usize) {
        if self.id_open == 0 {
            return;
        }
        for &(slot, _) in SLOT_SELECTORS {
            if self.id_depth[slot as usize] > 0 {
                self.push(slot, t, at);
            }
        }
    }
}

type State = Rc<RefCell<Collected>>;
type Handlers<'h> = Vec<(Cow<'static, Selector>, ElementContentHandlers<'h>)>;

fn is_text(t: &TextChunk) -> bool {
    matches!(t.text_type(), TextType::Data | TextType::RCData)
}

fn sel(s: &str) -> Option<Cow<'static, Selector>> {
    match parsed_selectors().get(s) {
        Some(parsed) => Some(Cow::Borrowed(parsed)),
        None => s.parse::<Selector>().ok().map(Cow::Owned),
    }
}

/// The slot selectors' alternatives that are not an id alone, as one selector per slot.
fn slot_rest(selector: &str) -> String {
    selector
        .split(',')
        .map(str::trim)
        .filter(|alt| id_only(alt).is_none())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every pass-two selector, parsed once per process: a page then only compiles them.
fn parsed_selectors() -> &'static HashMap<String, Selector> {
    static PARSED: OnceLock<HashMap<String, Selector>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SLOT_SELECTORS
            .iter()
            .map(|(_, s)| slot_rest(s))
            .chain(
                [
                    CURRENCY_CLASS,
                    MOBILE_STARS,
                    SELLER_LINK,
                    AUTHORS,
                    BULLETS,
                    TABLE_ROWS,
                    TABLE_CELLS,
                    DETAIL_BULLETS,
                    BREADCRUMBS,
                    HISTOGRAM,
                    QUANTITY,
                    "[id]",
                ]
                .map(str::to_string),
            )
            .filter(|s| !s.is_empty())
            .filter_map(|s| Some((s.clone(), s.parse::<Selector>().ok()?)))
            .collect()
    })
}

fn on_element<'h>(
    hs: &mut Handlers<'h>,
    selector: &str,
    mut f: impl FnMut(&mut Collected, &Element) + 'h,
    st: &State,
) {
    let st = st.clone();
    if let Some(s) = sel(selector) {
        hs.push((
            s,
            ElementContentHandlers::default().element(move |el: &mut Element| {
                f(&mut st.borrow_mut(), el);
                Ok(())
            }),
        ));
    }
}

/// One selector entry with both an element and a text handler: the selector VM is the
/// pass's main cost, so each selector is compiled once.
fn both<'h>(
    hs: &mut Handlers<'h>,
    selector: &str,
    mut on_el: impl FnMut(&mut Collected, &Element) + 'h,
    mut on_txt: impl FnMut(&mut Collected, &str, usize) + 'h,
    st: &State,
) {
    let (st1, st2) = (st.clone(), st.clone());
    if let Some(s) = sel(selector) {
        hs.push((
            s,
            ElementContentHandlers::default()
                .element(move |el: &mut Element| {
                    on_el(&mut st1.borrow_mut(), el);
                    Ok(())
                })
                .text(move |t: &mut TextChunk| {
                    if is_text(t) {
                        let at = t.source_location().bytes().start;
                        on_txt(&mut st2.borrow_mut(), t.as_str(), at);
                    }
                    Ok(())
                }),
        ));
    }
}

/// A list where every matching element starts an item and text inside goes to the last.
fn list<'h>(
    hs: &mut Handlers<'h>,
    selector: &str,
    pick: fn(&mut Collected) -> &mut Vec<String>,
    st: &State,
) {
    both(
        hs,
        selector,
        move |c, _| {
            let l = pick(c);
            if l.len() < LIST_CAP {
                l.push(String::new());
            }
        },
        move |c, t, _| {
            if let Some(last) = pick(c).last_mut() {
                if last.len() < SLOT_CAP {
                    last.push_str(t);
                }
            }
        },
        st,
    );
}

pub(super) fn first_attr(slot: &mut Option<String>, el: &Element, name: &str) {
    if slot.is_none() {
        *slot = el.get_attribute(name).filter(|v| !v.trim().is_empty());
    }
}

/// The id of a selector alternative that is only an id (optionally with a tag name):
/// `#productTitle`, `span#productTitle`.
fn id_only(alt: &str) -> Option<&str> {
    let (_, id) = alt.split_once('#')?;
    let tag = &alt[..alt.len() - id.len() - 1];
    let plain = |s: &str, extra: &[char]| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    };
    (plain(tag, &[]) && !id.is_empty() && plain(id, &['-', '_'])).then_some(id)
}

/// (id, slot) for every id-only alternative of the slot selectors, found by one lookup
/// per element instead of one VM entry point each.
fn id_slots() -> HashMap<&'static str, Vec<Slot>> {
    let mut map: HashMap<&'static str, Vec<Slot>> = HashMap::new();
    for &(slot, sel) in SLOT_SELECTORS {
        for id in sel.split(',').filter_map(|a| id_only(a.trim())) {
            map.entry(id).or_default().push(slot);
        }
    }
    map
}

fn handlers<'h>(st: &State) -> Handlers<'h> {
    let mut hs: Handlers<'h> = Vec::with_capacity(48);
    for &(slot, selector) in SLOT_SELECTORS {
        let rest = slot_rest(selector);
        if !rest.is_empty() {
            both(
                &mut hs,
                &rest,
                move |c, _| c.start(slot),
                move |c, t, at| c.push(slot, t, at),
                st,
            );
        }
    }
    on_element(
        &mut hs,
        CURRENCY_CLASS,
        |c, el| first_attr(&mut c.currency_class, el, "class"),
        st,
    );
    on_element(
        &mut hs,
        MOBILE_STARS,
        |c, el| first_attr(&mut c.mobile_stars, el, "title"),
        st,
    );
    on_element(
        &mut hs,
        SELLER_LINK,
        |c, el| first_attr(&mut c.seller_href, el, "href"),
        st,
    );
    list(&mut hs, AUTHORS, |c| &mut c.authors, st);
    list(&mut hs, BULLETS, |c| &mut c.bullets, st);
    on_element(
        &mut hs,
        TABLE_ROWS,
        |c, _| {
            if c.detail_rows.len() < LIST_CAP {
                c.detail_rows.push(Vec::new());
            }
        },
        st,
    );
    both(
        &mut hs,
        TABLE_CELLS,
        |c, _| {
            if let Some(row) = c.detail_rows.last_mut() {
                if row.len() < 8 {
                    row.push(String::new());
                }
            }
        },
        |c, t, _| {
            if let Some(cell) = c.detail_rows.last_mut().and_then(|r| r.last_mut()) {
                if cell.len() < SLOT_CAP {
                    cell.push_str(t);
                }
            }
        },
        st,
    );
    list(&mut hs, DETAIL_BULLETS, |c| &mut c.detail_bullets, st);
    both(
        &mut hs,
        BREADCRUMBS,
        |c, el| {
            if c.breadcrumbs.len() < 32 {
                c.breadcrumbs
                    .push((String::new(), el.get_attribute("href")));
            }
        },
        |c, t, _| {
            if let Some(last) = c.breadcrumbs.last_mut() {
                if last.0.len() < 1024 {
                    last.0.push_str(t);
                }
            }
        },
        st,
    );
    list(&mut hs, HISTOGRAM, |c| &mut c.histogram, st);
    on_element(
        &mut hs,
        QUANTITY,
        |c, el| {
            if let Some(v) = el
                .get_attribute("value")
                .and_then(|v| v.trim().parse::<u32>().ok())
            {
                c.quantity_max = Some(c.quantity_max.map_or(v, |m| m.max(v)));
            }
        },
        st,
    );
    // Elements named by id alone go through one `[id]` entry and a match here: every
    // selector is an entry point the VM runs on every element, a match is one lookup.
    let ids = id_slots();
    let (st1, st2) = (st.clone(), st.clone());
    if let Some(sel_id) = sel("[id]") {
        hs.push((
            sel_id,
            ElementContentHandlers::default()
                .element(move |el: &mut Element| {
                    let Some(id) = el.get_attribute("id") else {
                        return Ok(());
                    };
                    let Some(slots) = ids.get(id.as_str()) else {
                        return Ok(());
                    };
                    let mut c = st1.borrow_mut();
                    for &slot in slots {
                        if el.can_have_content() && c.open_id(slot) {
                            let st3 = st1.clone();
                            let closed = el.on_end_tag(Box::new(move |_| {
                                st3.borrow_mut().close_id(slot);
                                Ok(())
                            }));
                            if closed.is_err() {
                                c.close_id(slot);
                            }
                        }
                    }
                    Ok(())
                })
                .text(move |t: &mut TextChunk| {
                    if is_text(t) {
                        let at = t.source_location().bytes().start;
                        st2.borrow_mut().push_open_ids(t.as_str(), at);
                    }
                    Ok(())
                }),
        ));
    }
    hs
}

/// Runs both passes: pass one (`scan`) over the page, pass two's selectors over the
/// regions pass one found. `encoding` is the page's declared encoding (a `<meta
/// charset>` in the page still switches it).
pub fn collect(html: &[u8], encoding: &'static encoding_rs::Encoding) -> Collected {
    let state: State = Rc::new(RefCell::new(Collected {
        slots: vec![String::new(); SLOT_COUNT],
        active: vec![false; SLOT_COUNT],
        id_depth: vec![0; SLOT_COUNT],
        last_at: vec![usize::MAX; SLOT_COUNT],
        ..Collected::default()
    }));
    let scan = super::scan::run(html, encoding, &state);
    let regions = super::scan::fragments(html, &scan.regions);
    if !regions.is_empty() {
        let settings = Settings {
            element_content_handlers: handlers(&state),
            encoding: lol_html::AsciiCompatibleEncoding::new(scan.encoding)
                .unwrap_or_else(lol_html::AsciiCompatibleEncoding::utf_8),
            strict: false,
            ..Settings::new()
        };
        let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
        if rewriter.write(&regions).is_ok() {
            let _ = rewriter.end();
        }
    }
    Rc::try_unwrap(state)
        .map(RefCell::into_inner)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_selector_parses() {
        for (_, s) in SLOT_SELECTORS {
            assert!(s.parse::<Selector>().is_ok(), "{s}");
            let rest = slot_rest(s);
            assert!(
                rest.is_empty() || parsed_selectors().contains_key(&rest),
                "{rest}"
            );
        }
        for s in [CURRENCY_CLASS, BULLETS, TABLE_CELLS, QUANTITY, "[id]"] {
            assert!(parsed_selectors().contains_key(s), "{s}");
        }
        let st: State = Rc::new(RefCell::new(Collected::default()));
        // One entry per slot that keeps non-id alternatives, plus the fixed ones (the
        // `[id]` dispatch among them); a selector that fails to parse would be dropped.
        let with_selectors = SLOT_SELECTORS
            .iter()
            .filter(|(_, s)| s.split(',').any(|a| id_only(a.trim()).is_none()))
            .count();
        assert_eq!(handlers(&st).len(), with_selectors + 12);
    }

    #[test]
    fn id_only_alternatives() {
        assert_eq!(id_only("#productTitle"), Some("productTitle"));
        assert_eq!(
            id_only("span#priceblock_ourprice"),
            Some("priceblock_ourprice")
        );
        assert_eq!(id_only("div#corePrice_feature_div .a-offscreen"), None);
        assert_eq!(id_only("#btAsinTitle > span"), None);
        assert_eq!(id_only("a.contributorNameID"), None);
        assert_eq!(id_slots().get("productTitle"), Some(&vec![Slot::Title]));
    }

    #[test]
    fn id_captures_end_with_their_element_and_never_repeat_a_chunk() {
        let c = collect(
            b"<div id=title_feature_div><h1 id=title><span id=productTitle> A kettle </span></h1></div><span id=acrCustomerReviewText>12 ratings</span> after",
            encoding_rs::UTF_8,
        );
        assert_eq!(c.slot(Slot::Title).trim(), "A kettle");
        assert_eq!(c.slot(Slot::ReviewsText), "12 ratings");
    }

    #[test]
    fn class_rooted_selectors_read_outside_any_id_region() {
        let c = collect(
            b"<div><span class=availGreen>In Stock.</span><table><tr><td class=kindle-price><b class=a-color-price>$3.99</b></td></tr></table>\
              <div class=buying><span><a href='/s?field-author=Ann'>Ann Author</a></span></div>\
              <select name=quantity><option value=1>1</option><option value=7>7</option></select>\
              <p>outside every region</p></div>",
            encoding_rs::UTF_8,
        );
        assert_eq!(c.slot(Slot::AvailLegacy), "In Stock.");
        assert_eq!(c.slot(Slot::PriceKindle), "$3.99");
        assert_eq!(c.slot(Slot::LegacyAuthor), "Ann Author");
        assert_eq!(c.quantity_max, Some(7));
    }

    #[test]
    fn a_region_never_closed_runs_to_the_end_of_the_page() {
        let c = collect(
            b"<div><span id=productTitle> A kettle <b>, steel</b>",
            encoding_rs::UTF_8,
        );
        assert_eq!(c.slot(Slot::Title).trim(), "A kettle , steel");
    }

    #[test]
    fn regions_are_read_in_the_pages_charset() {
        let c = collect(
            b"<meta charset=iso-8859-1><span id=productTitle>Cr\xe8me br\xfbl\xe9e</span>",
            encoding_rs::UTF_8,
        );
        assert_eq!(c.slot(Slot::Title), "Cr\u{e8}me br\u{fb}l\u{e9}e");
    }

    #[test]
    fn first_text_wins() {
        let c = collect(
            b"<div id=corePrice_feature_div><span class='a-price'><span class=a-offscreen></span></span><span class=a-price><span class=a-offscreen>$1.00</span></span><span class=a-price><span class=a-offscreen>$2.00</span></span></div>",
            encoding_rs::UTF_8,
        );
        assert_eq!(c.slot(Slot::PriceCore), "$1.00");
    }
}
