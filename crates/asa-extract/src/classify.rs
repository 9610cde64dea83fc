//! Block pages told apart from real ones, by content (they often come with HTTP 200).
//!
//! Every block page Amazon serves is small (a few KB: robot check, "continue shopping",
//! WAF challenge, 503, 404), so the markers are looked for in the whole page only when it
//! is small, and in its first bytes otherwise; a 2 MB product page costs a few
//! microseconds here. The gallery shelf and layouts we do not know are decided after the
//! product pass, from what it saw ([`after_pass`]).

use crate::{CaptchaKind, Page};
use memchr::memmem;

/// Pages up to this size are searched whole for block markers.
const SMALL_PAGE: usize = 256 * 1024;
/// On bigger pages, only this head is searched: challenge pages never get that big.
const HEAD: usize = 48 * 1024;

fn has(hay: &[u8], needle: &str) -> bool {
    memmem::find(hay, needle.as_bytes()).is_some()
}

/// `Some` when the page is a captcha, an Amazon error or a 404 page.
pub fn block_page(html: &[u8]) -> Option<Page> {
    let window = if html.len() <= SMALL_PAGE {
        html
    } else {
        &html[..HEAD]
    };
    block_in(window)
}

fn block_in(w: &[u8]) -> Option<Page> {
    // AWS WAF / bot-manager interstitials: a script that fetches a token, no content.
    if has(w, "gokuProps")
        || has(w, "AwsWafIntegration")
        || (has(w, "awswaf.com") && has(w, "challenge.js"))
        || (has(w, "not a robot") && has(w, "requires JavaScript"))
    {
        return Some(Page::Captcha(CaptchaKind::JsChallenge));
    }
    let captcha_form = has(w, "validateCaptcha");
    // The classic robot check: an image and a text field for its characters.
    if has(w, "captchacharacters")
        || (captcha_form && has(w, "/captcha/"))
        || has(w, "Type the characters you see in this image")
    {
        return Some(Page::Captcha(CaptchaKind::RobotCheck));
    }
    // The same form with only a button ("Click the button below to continue shopping").
    if captcha_form || has(w, "Click the button below to continue shopping") {
        return Some(Page::Captcha(CaptchaKind::ContinueShopping));
    }
    // Amazon's error pages link home with `ref=cs_503_*` / `ref=cs_404_*` in every
    // marketplace and language, whatever their text says.
    if has(w, "ref=cs_503")
        || has(w, "error/500_503")
        || has(w, "<title>Sorry! Something went wrong!</title>")
    {
        return Some(Page::AmazonError);
    }
    if has(w, "ref=cs_404")
        || has(w, "Sorry! We couldn't find that page")
        || (has(w, "Looking for something?") && has(w, "not a functioning page"))
    {
        return Some(Page::NotFound);
    }
    // The bare "automated access" 503 (the comment without a captcha form).
    if w.len() < 32 * 1024 && has(w, "To discuss automated access to Amazon data") {
        return Some(Page::AmazonError);
    }
    None
}

/// What the product pass saw that tells non-product pages apart.
#[derive(Debug, Default, Clone)]
pub struct PageSignals {
    /// Product cards in carousels / shelves (`.a-carousel-card` and the like).
    pub shelf_cards: u32,
    /// Best-seller list markup (`zg-*`, `gridItemRoot`).
    pub bestseller_list: bool,
    /// Search result markup (`s-search-result`, `result_N`).
    pub search_results: bool,
    /// Home page / gateway markup.
    pub gateway: bool,
    /// Review list or offer list markup.
    pub reviews_or_offers: bool,
    /// A `#gallery-shelf` container (the delisted product's placeholder shelf).
    pub gallery_shelf: bool,
    /// Containers only a product detail page has (`#dp`, `#ppd`, `#centerCol`, the
    /// price, review, bullet and detail blocks), whatever its title markup.
    pub product_layout: bool,
}

/// Decides what a page without a product title is. `sells` is true when it has a buy box,
/// an add-to-cart form or buying choices; `about_a_product` when it names an ASIN of its
/// own (canonical link, `input#ASIN`).
///
/// The placeholder Amazon shows for a delisted product is about a product but sells
/// nothing, has no product layout, and is essentially a shelf of other products (a
/// `#gallery-shelf`, or carousel cards and nothing else). A page that sells something or
/// names its product otherwise is a layout we do not know, never a shelf; list pages
/// (best sellers, search, reviews, offers, the home page) are not product pages.
pub fn untitled(signals: &PageSignals, sells: bool, about_a_product: bool) -> Page {
    let list = signals.bestseller_list
        || signals.search_results
        || signals.reviews_or_offers
        || signals.gateway;
    let shelf = signals.gallery_shelf || signals.shelf_cards >= 4;
    if !sells && !list && !signals.product_layout && shelf {
        return Page::Gallery;
    }
    if sells || about_a_product {
        return unknown("product page without a title we can read: unknown layout");
    }
    after_pass(signals)
}

/// What a page that neither sells nor names a product is, from its list markup.
pub fn after_pass(signals: &PageSignals) -> Page {
    if signals.bestseller_list {
        return unknown("a best-seller list, not a product page");
    }
    if signals.search_results {
        return unknown("a search result page, not a product page");
    }
    if signals.reviews_or_offers {
        return unknown("a review or offer list, not a product page");
    }
    if signals.gateway {
        return unknown("the home page, not a product page");
    }
    if signals.shelf_cards >= 4 && !signals.product_layout {
        return Page::Gallery;
    }
    unknown("no product title found: unknown layout")
}

fn unknown(reason: &str) -> Page {
    Page::Unknown {
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(
            block_page(b"<script>window.gokuProps = {}</script>"),
            Some(Page::Captcha(CaptchaKind::JsChallenge))
        );
        assert_eq!(
            block_page(
                b"<form action=\"/errors/validateCaptcha\"><input id=\"captchacharacters\">"
            ),
            Some(Page::Captcha(CaptchaKind::RobotCheck))
        );
        assert_eq!(
            block_page(
                b"<form action=\"/errors/validateCaptcha\"><button>Continue shopping</button>"
            ),
            Some(Page::Captcha(CaptchaKind::ContinueShopping))
        );
        assert_eq!(
            block_page(b"<a href=\"/ref=cs_503_logo\">"),
            Some(Page::AmazonError)
        );
        assert_eq!(
            block_page(b"<a href=\"/dogsofamazon/ref=cs_404_d\">"),
            Some(Page::NotFound)
        );
        assert_eq!(
            block_page(b"<span id=\"productTitle\">A kettle</span>"),
            None
        );
        assert_eq!(block_page(b""), None);
    }

    #[test]
    fn big_pages_only_checked_at_the_head() {
        let mut page = vec![b' '; SMALL_PAGE + 1];
        page.extend_from_slice(b"validateCaptcha");
        assert_eq!(block_page(&page), None);
        let mut page = b"<form action=\"/errors/validateCaptcha\">".to_vec();
        page.resize(SMALL_PAGE + 10, b' ');
        assert_eq!(
            block_page(&page),
            Some(Page::Captcha(CaptchaKind::ContinueShopping))
        );
    }

    #[test]
    fn shelves_and_lists() {
        let shelf = PageSignals {
            shelf_cards: 8,
            ..Default::default()
        };
        assert_eq!(after_pass(&shelf), Page::Gallery);
        let zg = PageSignals {
            shelf_cards: 30,
            bestseller_list: true,
            ..Default::default()
        };
        assert!(matches!(after_pass(&zg), Page::Unknown { .. }));
        assert!(matches!(
            after_pass(&PageSignals::default()),
            Page::Unknown { .. }
        ));
    }

    #[test]
    fn a_shelf_about_a_product_is_a_gallery_unless_it_sells_or_has_a_product_layout() {
        let marked = PageSignals {
            gallery_shelf: true,
            shelf_cards: 12,
            ..Default::default()
        };
        assert_eq!(untitled(&marked, false, true), Page::Gallery);
        assert_eq!(untitled(&marked, false, false), Page::Gallery);
        assert!(matches!(
            untitled(&marked, true, true),
            Page::Unknown { .. }
        ));
        let cards = PageSignals {
            shelf_cards: 6,
            ..Default::default()
        };
        assert_eq!(untitled(&cards, false, true), Page::Gallery);
        let product = PageSignals {
            shelf_cards: 6,
            product_layout: true,
            ..Default::default()
        };
        assert!(matches!(
            untitled(&product, false, true),
            Page::Unknown { .. }
        ));
        assert!(matches!(
            untitled(&product, false, false),
            Page::Unknown { .. }
        ));
        let reviews = PageSignals {
            shelf_cards: 6,
            reviews_or_offers: true,
            ..Default::default()
        };
        assert!(matches!(
            untitled(&reviews, false, true),
            Page::Unknown { .. }
        ));
        let few = PageSignals {
            shelf_cards: 2,
            ..Default::default()
        };
        assert!(matches!(untitled(&few, false, true), Page::Unknown { .. }));
    }
}
