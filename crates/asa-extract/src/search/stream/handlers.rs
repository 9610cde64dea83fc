//! The lol_html handlers of the search pass: card boundaries, then the few elements
//! inside a card whose text or attributes become fields.

use std::borrow::Cow;

use lol_html::html_content::{Element, TextChunk, TextType};
use lol_html::{element, end_tag, text, Selector};

use super::{Draft, Heading, Scanner, Scope, Shared, Slot, MAX_HEADINGS, SLOT_CAP};
use crate::text::is_asin;
/// Text of a chunk that is page text (not script or style source).
pub(super) fn visible<'a>(t: &'a TextChunk<'_>) -> Option<&'a str> {
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

pub(super) fn handlers(st: &Shared) -> Vec<Handler<'static>> {
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
