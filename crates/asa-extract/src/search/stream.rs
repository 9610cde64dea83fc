//! One streaming pass (lol_html) over a search page: card boundaries, and inside each card
//! the few elements whose text or attributes we need. No DOM is built.

use std::cell::RefCell;
use std::rc::Rc;

use asa_model::Marketplace;
use lol_html::{doc_text, HtmlRewriter, Settings};

use super::card::{Draft, Heading, PriceBlock};
use super::labels::NO_RESULTS;

mod handlers;
use handlers::{handlers, visible};

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
