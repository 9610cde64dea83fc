//! One streaming pass (lol_html) over a search page: card boundaries, and inside each card
//! the few elements whose text or attributes we need. No DOM is built.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use asa_model::Marketplace;
use lol_html::html_content::{Element, TextChunk, TextType};
use lol_html::{doc_text, element, end_tag, text, HtmlRewriter, Selector, Settings};

use super::card::{Draft, Heading, PriceBlock};
use super::labels::NO_RESULTS;
use crate::text::is_asin;

/// What the pass found.
pub(super) struct Scan {
    /// Cards of a full page or of a `#resultsCol` fragment.
    pub cards: Vec<Draft>,
    /// Bare `.puis-card-container` cards outside any result item: used only when a
    /// page is nothing but such a fragment (carousels hold them on full pages).
    pub loose_cards: Vec<Draft>,
    pub no_results_text: bool,
}

/// Texts collected per card, each while its element is open.
#[derive(Clone, Copy)]
enum Slot {
    HeadingLabel,
    OldTitle,
    OldPrice,
    OldStrike,
    Rating,
    Reviews,
    Secondary,
    Badge,
}
const SLOTS: usize = 8;

/// Elements whose inside some field is read from. Tracked by depth instead of descendant
/// selectors: lol_html walks every open ancestor per element below a descendant
/// combinator's anchor, which is quadratic on deeply nested pages.
#[derive(Clone, Copy)]
enum Scope {
    Heading,
    /// 2013 grid: `h3.newaps` (title), `li.newp` (price), `.asinReviewsSummary`
    /// (stars), `.rvwCnt` (count).
    NewapsTitle,
    NewpPrice,
    ReviewsSummary,
    ReviewsCount,
    /// `i.a-icon-star*`: its `.a-icon-alt` is the rating.
    Stars,
}
const SCOPES: usize = 6;
/// A card field never needs more text than this; bounds memory on hostile pages.
const SLOT_CAP: usize = 2048;
const MAX_HEADINGS: usize = 8;
const MAX_PRICES: usize = 16;

struct OpenCard {
    id: u32,
    draft: Draft,
    loose: bool,
}

struct Scanner {
    market: Marketplace,
    scan: Scan,
    open: Option<OpenCard>,
    next_id: u32,
    link_depth: u32,
    scopes: [u32; SCOPES],
    price_depth: u32,
    /// Text seen since the last buy price closed: a lone dash makes the next price the
    /// top of a range.
    price_gap: Option<String>,
    slots: [(u32, Option<String>); SLOTS],
    /// Visible text of the current text node, when the page may be a no-results page.
    node_text: Option<String>,
}

type Shared = Rc<RefCell<Scanner>>;

impl Scanner {
    fn card(&mut self) -> Option<&mut Draft> {
        self.open.as_mut().map(|o| &mut o.draft)
    }

    fn open_card(&mut self, asin: Option<String>, loose: bool, sponsored: bool) -> Option<u32> {
        if let Some(open) = &self.open {
            // A result item nested in an open one is part of it, unless it names another
            // product: then the open one was closed implicitly (`<li>` without `</li>`).
            let other_product =
                !loose && matches!((&open.draft.asin, &asin), (Some(a), Some(b)) if a != b);
            if !other_product {
                return None;
            }
            self.close_card();
        }
        if asin.is_none() && !loose {
            return None;
        }
        self.next_id += 1;
        let mut draft = Draft::with_asin(asin);
        draft.sponsored = sponsored;
        self.open = Some(OpenCard {
            id: self.next_id,
            draft,
            loose,
        });
        Some(self.next_id)
    }

    fn close_card(&mut self) {
        for i in 0..SLOTS {
            if self.slots[i].1.is_some() {
                self.slots[i].0 = 1;
                self.finish_slot(i);
            }
        }
        self.slots = Default::default();
        self.link_depth = 0;
        self.scopes = [0; SCOPES];
        self.price_depth = 0;
        self.price_gap = None;
        if let Some(open) = self.open.take() {
            if open.loose {
                self.scan.loose_cards.push(open.draft);
            } else {
                self.scan.cards.push(open.draft);
            }
        }
    }

    fn is_open(&self, id: u32) -> bool {
        self.open.as_ref().is_some_and(|o| o.id == id)
    }

    fn slot_start(&mut self, slot: Slot) {
        let s = &mut self.slots[slot as usize];
        s.0 += 1;
        if s.1.is_none() {
            s.1 = Some(String::new());
        }
    }

    fn slot_text(&mut self, slot: Slot, text: &str) {
        if let Some(buf) = &mut self.slots[slot as usize].1 {
            if buf.len() + text.len() <= SLOT_CAP {
                buf.push_str(text);
            }
        }
    }

    fn finish_slot(&mut self, i: usize) {
        let s = &mut self.slots[i];
        s.0 = s.0.saturating_sub(1);
        if s.0 > 0 {
            return;
        }
        let Some(text) = s.1.take() else { return };
        let m = self.market;
        let Some(card) = self.card() else { return };
        match i {
            x if x == Slot::HeadingLabel as usize => card.see_secondary_text(&text),
            x if x == Slot::OldTitle as usize => {
                card.old_title.get_or_insert(text);
            }
            x if x == Slot::OldPrice as usize => {
                card.old_price.get_or_insert(text);
            }
            x if x == Slot::OldStrike as usize => {
                if !text.trim().is_empty() {
                    card.old_strike.get_or_insert(text);
                }
            }
            x if x == Slot::Rating as usize => card.see_rating(&text),
            x if x == Slot::Reviews as usize => card.see_reviews(&text, m),
            x if x == Slot::Secondary as usize => card.see_secondary_text(&text),
            _ => card.see_badge_text(&text),
        }
    }

    fn price_start(&mut self, text_price: bool, struck: bool) {
        self.price_depth += 1;
        if self.price_depth > 1 {
            return;
        }
        let gap = self.price_gap.take();
        let Some(card) = self.card() else { return };
        if card.prices.len() >= MAX_PRICES {
            return;
        }
        let has_main = card.prices.iter().any(|p| !p.text_price && !p.struck);
        let dash = gap.is_some_and(|g| matches!(g.trim(), "-" | "–" | "—" | "~" | "～"));
        card.prices.push(PriceBlock {
            text_price,
            struck,
            range_high: has_main && dash && !text_price && !struck,
            ..PriceBlock::default()
        });
    }

    fn price_end(&mut self) {
        self.price_depth = self.price_depth.saturating_sub(1);
        if self.price_depth > 0 {
            return;
        }
        let main_closed = self
            .card()
            .and_then(|c| c.prices.last())
            .is_some_and(|p| !p.text_price && !p.struck);
        self.price_gap = main_closed.then(String::new);
    }
}

/// Text of a chunk that is page text (not script or style source).
fn visible<'a>(t: &'a TextChunk<'_>) -> Option<&'a str> {
    matches!(t.text_type(), TextType::Data | TextType::RCData).then(|| t.as_str())
}

fn has_class(el: &Element<'_, '_>, class: &str) -> bool {
    el.get_attribute("class")
        .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
}

fn attr_asin(el: &Element<'_, '_>, name: &str) -> Option<String> {
    el.get_attribute(name).filter(|a| is_asin(a))
}

/// Runs `on_end` when `el` closes, or right away when it cannot have content.
fn at_end<F>(el: &mut Element<'_, '_>, st: &Shared, on_end: F, id: u32)
where
    F: Fn(&mut Scanner, u32) + Copy + 'static,
{
    let st2 = st.clone();
    let registered = el.on_end_tag(end_tag!(move |_end| {
        on_end(&mut st2.borrow_mut(), id);
        Ok(())
    }));
    if registered.is_err() {
        on_end(&mut st.borrow_mut(), id);
    }
}

type Handler<'h> = (Cow<'static, Selector>, lol_html::ElementContentHandlers<'h>);

fn opener(st: &Shared, sel: &'static str, loose: bool) -> Handler<'static> {
    let st = st.clone();
    element!(sel, move |el| {
        let asin = attr_asin(el, "data-asin").or_else(|| attr_asin(el, "name"));
        let sponsored = has_class(el, "AdHolder") || has_class(el, "sp-sponsored-result");
        let opened = st.borrow_mut().open_card(asin, loose, sponsored);
        if let Some(id) = opened {
            at_end(
                el,
                &st,
                |s, id| {
                    if s.is_open(id) {
                        s.close_card()
                    }
                },
                id,
            );
        }
        Ok(())
    })
}

/// Collects the text of `sel` into `slot` while the element is open inside a card (and
/// inside `within`, when given).
fn slot(
    st: &Shared,
    sel: &'static str,
    slot: Slot,
    within: Option<Scope>,
) -> [Handler<'static>; 2] {
    let (st1, st2) = (st.clone(), st.clone());
    [
        element!(sel, move |el| {
            let id = {
                let mut s = st1.borrow_mut();
                let Some(id) = s.open.as_ref().map(|o| o.id) else {
                    return Ok(());
                };
                if within.is_some_and(|w| s.scopes[w as usize] == 0) {
                    return Ok(());
                }
                s.slot_start(slot);
                id
            };
            at_end(
                el,
                &st1,
                move |s, id| {
                    if s.is_open(id) {
                        s.finish_slot(slot as usize)
                    }
                },
                id,
            );
            Ok(())
        }),
        text!(sel, move |t| {
            if let Some(text) = visible(t) {
                st2.borrow_mut().slot_text(slot, text);
            }
            Ok(())
        }),
    ]
}

/// Sets a card flag when an element matching `sel` appears inside it.
fn flag(st: &Shared, sel: &'static str, set: fn(&mut Draft)) -> Handler<'static> {
    let st = st.clone();
    element!(sel, move |_el| {
        if let Some(card) = st.borrow_mut().card() {
            set(card);
        }
        Ok(())
    })
}

/// Counts how deep inside elements matching `sel` the stream is, within a card.
fn scope(st: &Shared, sel: &'static str, scope: Scope) -> Handler<'static> {
    let st = st.clone();
    element!(sel, move |el| {
        let id = {
            let mut sc = st.borrow_mut();
            let Some(id) = sc.open.as_ref().map(|o| o.id) else {
                return Ok(());
            };
            sc.scopes[scope as usize] += 1;
            id
        };
        at_end(
            el,
            &st,
            move |sc, id| {
                if sc.is_open(id) {
                    let d = &mut sc.scopes[scope as usize];
                    *d = d.saturating_sub(1);
                }
            },
            id,
        );
        Ok(())
    })
}

/// Links whose text is the reviews count: the stars' "#customerReviews" anchor (also
/// percent-encoded inside ad click-throughs) and the 2015 "product-reviews" link.
fn is_reviews_link(href: &str) -> bool {
    href.contains("#customerReviews")
        || href.contains("%23customerReviews")
        || href.contains("product-reviews")
}

fn handlers(st: &Shared) -> Vec<Handler<'static>> {
    let mut h = vec![
        opener(st, r#"div[data-component-type="s-search-result"]"#, false),
        opener(st, "div.s-result-item.s-asin", false),
        opener(st, "li.s-result-item", false),
        opener(st, r#"[id^="result_"]"#, false),
        opener(st, ".puis-card-container", true),
    ];
    let s = st.clone();
    h.push(element!("a[href]", move |el| {
        let (id, reviews) = {
            let mut sc = s.borrow_mut();
            let in_heading = sc.scopes[Scope::Heading as usize] > 0;
            let in_count = sc.scopes[Scope::ReviewsCount as usize] > 0;
            let in_summary = sc.scopes[Scope::ReviewsSummary as usize] > 0;
            let Some(open) = sc.open.as_mut() else {
                return Ok(());
            };
            let id = open.id;
            let href = el.get_attribute("href").unwrap_or_default();
            open.draft.see_link(&href);
            if in_heading {
                if let Some(last) = open.draft.headings.last_mut() {
                    last.linked = true;
                }
            }
            if in_summary {
                if let Some(alt) = el.get_attribute("alt") {
                    open.draft.see_rating(&alt);
                }
            }
            let reviews = in_count || is_reviews_link(&href);
            if reviews {
                sc.slot_start(Slot::Reviews);
            }
            sc.link_depth += 1;
            (id, reviews)
        };
        at_end(
            el,
            &s,
            move |sc, id| {
                if sc.is_open(id) {
                    sc.link_depth = sc.link_depth.saturating_sub(1);
                    if reviews {
                        sc.finish_slot(Slot::Reviews as usize);
                    }
                }
            },
            id,
        );
        Ok(())
    }));
    let s = st.clone();
    h.push(element!("h2", move |el| {
        let id = {
            let mut sc = s.borrow_mut();
            let linked = sc.link_depth > 0;
            let Some(open) = sc.open.as_mut() else {
                return Ok(());
            };
            let id = open.id;
            if open.draft.headings.len() < MAX_HEADINGS {
                open.draft.headings.push(Heading {
                    text: String::new(),
                    linked,
                });
            }
            sc.scopes[Scope::Heading as usize] += 1;
            id
        };
        at_end(
            el,
            &s,
            |sc, id| {
                if sc.is_open(id) {
                    let d = &mut sc.scopes[Scope::Heading as usize];
                    *d = d.saturating_sub(1);
                }
            },
            id,
        );
        Ok(())
    }));
    let s = st.clone();
    h.push(text!("h2", move |t| {
        let mut sc = s.borrow_mut();
        // "[Gesponsert]" hidden inside 2019 titles is a label, not part of the title.
        let in_label = sc.slots[Slot::HeadingLabel as usize].1.is_some();
        if let (Some(text), false) = (visible(t), in_label) {
            if let Some(last) = sc.card().and_then(|c| c.headings.last_mut()) {
                if last.text.len() + text.len() <= SLOT_CAP {
                    last.text.push_str(text);
                }
            }
        }
        Ok(())
    }));
    h.extend(slot(
        st,
        ".a-offscreen",
        Slot::HeadingLabel,
        Some(Scope::Heading),
    ));
    for (sel, attr) in [
        ("a.s-access-detail-page[title]", "title"),
        ("h2[data-attribute]", "data-attribute"),
    ] {
        let s = st.clone();
        h.push(element!(sel, move |el| {
            if let Some(card) = s.borrow_mut().card() {
                if card.full_title.is_none() {
                    card.full_title = el.get_attribute(attr).filter(|t| !t.trim().is_empty());
                }
            }
            Ok(())
        }));
    }
    h.push(scope(st, "h3.newaps", Scope::NewapsTitle));
    h.extend(slot(st, ".lrg", Slot::OldTitle, Some(Scope::NewapsTitle)));
    let s = st.clone();
    h.push(element!(
        "img.s-image, img.s-access-image, img.productImage",
        move |el| {
            if let Some(card) = s.borrow_mut().card() {
                if card.image.is_none() {
                    card.image = el.get_attribute("src").filter(|v| !v.is_empty());
                }
            }
            Ok(())
        }
    ));
    h.extend(price_handlers(st));
    h.extend(slot(st, ".s-price", Slot::OldPrice, None));
    h.push(scope(st, "li.newp", Scope::NewpPrice));
    h.extend(slot(st, ".red", Slot::OldPrice, Some(Scope::NewpPrice)));
    h.extend(slot(st, ".a-text-strike", Slot::OldStrike, None));
    h.push(scope(st, r#"i[class*="a-icon-star"]"#, Scope::Stars));
    h.extend(slot(st, ".a-icon-alt", Slot::Rating, Some(Scope::Stars)));
    h.push(scope(st, ".asinReviewsSummary", Scope::ReviewsSummary));
    h.push(scope(st, ".rvwCnt", Scope::ReviewsCount));
    let s = st.clone();
    h.push(element!("a[aria-label], span[aria-label]", move |el| {
        let m = s.borrow().market;
        if let Some(card) = s.borrow_mut().card() {
            // The count's label ("381 ratings", "634") follows the stars and precedes
            // the price in every layout that labels it.
            let before_price = card.prices.is_empty();
            if card.rating.is_some() && before_price {
                if let Some(label) = el.get_attribute("aria-label") {
                    card.see_reviews(&label, m);
                }
            }
        }
        Ok(())
    }));
    // The reviews link's text; its start and end ride on the `a[href]` handler.
    let s = st.clone();
    h.push(text!("a[href]", move |t| {
        if let Some(text) = visible(t) {
            s.borrow_mut().slot_text(Slot::Reviews, text);
        }
        Ok(())
    }));
    h.extend(slot(st, ".a-color-secondary", Slot::Secondary, None));
    h.extend(slot(
        st,
        ".a-badge-text, .sx-bestseller-badge-primary, .rio-badge-label",
        Slot::Badge,
        None,
    ));
    h.push(flag(st, r#"[id$="-amazons-choice"]"#, |c| c.choice = true));
    for sel in [
        r#"[id$="-best-seller"]"#,
        "#BEST_SELLER",
        ".rio-badge-style-BEST_SELLER",
    ] {
        h.push(flag(st, sel, |c| c.best_seller = true));
    }
    for sel in [
        ".a-icon-prime",
        ".s-prime",
        r#"[aria-label="Amazon Prime"]"#,
    ] {
        h.push(flag(st, sel, |c| c.prime = true));
    }
    for sel in [
        ".puis-sponsored-label-text",
        ".s-sponsored-label-text",
        ".s-sponsored-header",
        ".sp-sponsored-result",
        ".s-sponsored-label-info-icon",
        ".AdHolder",
    ] {
        h.push(flag(st, sel, |c| c.sponsored = true));
    }
    h
}

fn price_handlers(st: &Shared) -> Vec<Handler<'static>> {
    let mut h = Vec::new();
    let s = st.clone();
    h.push(element!(".a-price", move |el| {
        let id = {
            let mut sc = s.borrow_mut();
            let Some(id) = sc.open.as_ref().map(|o| o.id) else {
                return Ok(());
            };
            let struck = el.get_attribute("data-a-strike").as_deref() == Some("true");
            sc.price_start(has_class(el, "a-text-price"), struck);
            id
        };
        at_end(
            el,
            &s,
            |sc, id| {
                if sc.is_open(id) {
                    sc.price_end()
                }
            },
            id,
        );
        Ok(())
    }));
    for (sel, hidden) in [
        (".a-price > .a-offscreen", false),
        (r#".a-price > span[aria-hidden="true"]"#, true),
    ] {
        let s = st.clone();
        h.push(text!(sel, move |t| {
            let mut sc = s.borrow_mut();
            if sc.price_depth == 0 {
                return Ok(());
            }
            if let (Some(text), Some(p)) = (visible(t), sc.card().and_then(|c| c.prices.last_mut()))
            {
                let buf = if hidden {
                    &mut p.hidden_text
                } else {
                    &mut p.text
                };
                if buf.len() + text.len() <= SLOT_CAP {
                    buf.push_str(text);
                }
            }
            Ok(())
        }));
    }
    for sel in [
        r#"[data-cy="price-recipe"]"#,
        ".s-price-instructions-style",
        ".a-price-range",
    ] {
        let s = st.clone();
        h.push(text!(sel, move |t| {
            let mut sc = s.borrow_mut();
            if sc.price_depth > 0 {
                return Ok(());
            }
            if let (Some(text), Some(gap)) = (visible(t), sc.price_gap.as_mut()) {
                if gap.len() + text.len() <= 64 {
                    gap.push_str(text);
                } else {
                    // Too much text in between: not a range.
                    sc.price_gap = None;
                }
            }
            Ok(())
        }));
    }
    h
}

/// Streams `html` once and returns the cards and the no-results signal.
pub(super) fn scan(html: &[u8], market: Marketplace) -> Scan {
    // The phrase test runs on visible text only, and only when the bytes hold a phrase.
    let watch = NO_RESULTS
        .iter()
        .any(|p| memchr::memmem::find(html, p.as_bytes()).is_some());
    let st: Shared = Rc::new(RefCell::new(Scanner {
        market,
        scan: Scan {
            cards: Vec::new(),
            loose_cards: Vec::new(),
            no_results_text: false,
        },
        open: None,
        next_id: 0,
        link_depth: 0,
        scopes: [0; SCOPES],
        price_depth: 0,
        price_gap: None,
        slots: Default::default(),
        node_text: watch.then(String::new),
    }));
    let doc = st.clone();
    let settings = Settings {
        element_content_handlers: handlers(&st),
        document_content_handlers: vec![doc_text!(move |t| {
            let mut sc = doc.borrow_mut();
            if sc.scan.no_results_text || sc.node_text.is_none() {
                return Ok(());
            }
            let last = t.last_in_text_node();
            let chunk = visible(t).unwrap_or("");
            if let Some(node) = sc.node_text.as_mut() {
                if node.len() < 512 {
                    node.push_str(chunk);
                }
                if last {
                    let hit = NO_RESULTS.iter().any(|p| node.contains(p));
                    node.clear();
                    sc.scan.no_results_text = hit;
                }
            }
            Ok(())
        })],
        ..Settings::new()
    };
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // Handlers never fail; a rewriter error can only be a resource limit: keep what the
    // pass collected up to there.
    if rewriter.write(html).is_ok() {
        let _ = rewriter.end();
    }
    let mut sc = st.borrow_mut();
    sc.close_card();
    std::mem::replace(
        &mut sc.scan,
        Scan {
            cards: Vec::new(),
            loose_cards: Vec::new(),
            no_results_text: false,
        },
    )
}
