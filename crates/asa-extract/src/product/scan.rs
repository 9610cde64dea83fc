//! Pass one, over the whole page: a single `*` element handler and no text handler, so
//! lol_html never decodes the page's text (most of it is script) and runs one selector
//! entry per element. Each start tag's id, class and a few attributes are read from its
//! raw bytes (no allocation); the handler records what elements alone tell (ASIN inputs,
//! canonical link, main images, Prime badge, twister swatches, page signals) and the byte
//! ranges of the regions whose text the pass-two selectors read (`pass.rs`).
//!
//! A region is an element that can be the first compound of a pass-two selector (an id,
//! a class, `select[name=quantity]`): every element a pass-two selector can match lies
//! inside one, so running those selectors over the regions alone finds what they would
//! find over the whole page. Large containers that only scope element facts (the right
//! column, the buy box, the twister, the image block) are tracked here by depth instead
//! of being copied.

use super::pass::{first_attr, Collected, ImageAttrs, LIST_CAP};
use super::selectors::pass_two_roots;
use encoding_rs::Encoding;
use lol_html::html_content::{Element, EndTag};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::OnceLock;

/// Containers that scope element facts, tracked by depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// `div#buybox`: any `.a-icon-prime` inside is the buy box's Prime badge.
    Buybox,
    /// `div#rightCol`, `span#priceBadging_feature_div`, `#price-shipping-message`,
    /// `div#deliveryBlockMessage`: an `i.a-icon-prime` inside is the Prime badge.
    PrimeScope,
    /// `div#altImages`: a `.videoThumbnail` inside means the page has videos.
    AltImages,
    /// `div#twister_feature_div`, `#twister`, `div#twister-plus-inline-twister`:
    /// `li[data-asin]` inside are variation swatches.
    Twister,
    /// `#addToCart`: its `input[name=a]` is the page's ASIN.
    AddToCart,
    /// `form#handleBuy`: its `input[name=asin]` is the page's ASIN (2013).
    HandleBuy,
    /// The main image blocks: an `img` inside is a main image.
    ImageBox,
}

const CONTAINERS: usize = Container::ImageBox as usize + 1;

/// (id, tag the id must be on or "" for any, container).
const CONTAINER_IDS: &[(&str, &str, Container)] = &[
    ("buybox", "div", Container::Buybox),
    ("rightCol", "div", Container::PrimeScope),
    ("priceBadging_feature_div", "span", Container::PrimeScope),
    ("price-shipping-message", "", Container::PrimeScope),
    ("deliveryBlockMessage", "div", Container::PrimeScope),
    ("altImages", "div", Container::AltImages),
    ("twister_feature_div", "div", Container::Twister),
    ("twister", "", Container::Twister),
    ("twister-plus-inline-twister", "div", Container::Twister),
    ("addToCart", "", Container::AddToCart),
    ("handleBuy", "form", Container::HandleBuy),
    ("imgTagWrapperId", "div", Container::ImageBox),
    ("main-image-container", "div", Container::ImageBox),
    ("main-image", "", Container::ImageBox),
    ("ebooks-main-image-container", "div", Container::ImageBox),
    ("holderMainImage", "div", Container::ImageBox),
];

/// What an id can mean to pass one.
#[derive(Debug, Default)]
struct IdRole {
    region: bool,
    containers: Vec<(&'static str, Container)>,
}

/// A multiply-rotate hash (the Fx hash): ids and class names are short and not chosen
/// by an attacker who gains from collisions, and SipHash was a visible part of the pass.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = std::hash::BuildHasherDefault<FxHasher>;

struct Tables {
    ids: HashMap<&'static [u8], IdRole, Fx>,
    region_classes: HashSet<&'static [u8], Fx>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let roots = pass_two_roots();
        let mut ids: HashMap<&'static [u8], IdRole, Fx> = HashMap::default();
        for id in roots.ids {
            ids.entry(id.as_bytes()).or_default().region = true;
        }
        for &(id, tag, k) in CONTAINER_IDS {
            ids.entry(id.as_bytes())
                .or_default()
                .containers
                .push((tag, k));
        }
        Tables {
            ids,
            region_classes: roots.classes.into_iter().map(str::as_bytes).collect(),
        }
    })
}

/// Pass-one state, beside what is collected.
#[derive(Debug)]
pub(super) struct Scan {
    /// Byte ranges of regions, in document order of their start; `usize::MAX` as the end
    /// of one whose end tag has not come.
    pub regions: Vec<(usize, usize)>,
    depth: [u32; CONTAINERS],
    /// The encoding after the page's first `<meta>` charset, as lol_html switches it.
    pub encoding: &'static Encoding,
    charset_found: bool,
}

impl Scan {
    fn inside(&self, k: Container) -> bool {
        self.depth[k as usize] > 0
    }
}

/// The attributes pass one reads from a start tag's raw bytes.
#[derive(Debug, Default, PartialEq)]
struct TagView<'a> {
    name: &'a [u8],
    id: Option<&'a [u8]>,
    class: Option<&'a [u8]>,
    name_attr: Option<&'a [u8]>,
    component: Option<&'a [u8]>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Reads a start tag (`<div id="a" class=b>`) the way the HTML tokenizer does: the tag
/// name, then attributes with double-quoted, single-quoted or bare values; the first of
/// a repeated attribute wins.
fn tag_view(raw: &[u8]) -> TagView<'_> {
    let mut v = TagView::default();
    let n = raw.len();
    let mut i = usize::from(raw.first() == Some(&b'<'));
    let start = i;
    while i < n && !is_space(raw[i]) && raw[i] != b'/' && raw[i] != b'>' {
        i += 1;
    }
    v.name = &raw[start..i];
    loop {
        while i < n && (is_space(raw[i]) || raw[i] == b'/') {
            i += 1;
        }
        if i >= n || raw[i] == b'>' {
            break;
        }
        let name_start = i;
        // An attribute name may start with `=`; it ends at space, `/`, `>` or `=`.
        i += 1;
        while i < n && !is_space(raw[i]) && !matches!(raw[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = &raw[name_start..i];
        while i < n && is_space(raw[i]) {
            i += 1;
        }
        let mut value: &[u8] = b"";
        if i < n && raw[i] == b'=' {
            i += 1;
            while i < n && is_space(raw[i]) {
                i += 1;
            }
            if i < n && (raw[i] == b'"' || raw[i] == b'\'') {
                let q = raw[i];
                let vs = i + 1;
                let ve = memchr::memchr(q, &raw[vs..]).map_or(n, |p| vs + p);
                value = &raw[vs..ve];
                i = (ve + 1).min(n);
            } else {
                let vs = i;
                while i < n && !is_space(raw[i]) && raw[i] != b'>' {
                    i += 1;
                }
                value = &raw[vs..i];
            }
        }
        let slot = if name.eq_ignore_ascii_case(b"id") {
            &mut v.id
        } else if name.eq_ignore_ascii_case(b"class") {
            &mut v.class
        } else if name.eq_ignore_ascii_case(b"name") {
            &mut v.name_attr
        } else if name.eq_ignore_ascii_case(b"data-component-type") {
            &mut v.component
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
    v
}

fn is_tag(t: &TagView<'_>, name: &str) -> bool {
    name.is_empty() || t.name.eq_ignore_ascii_case(name.as_bytes())
}

fn push_image(c: &mut Collected, el: &Element) {
    let attrs = ImageAttrs {
        old_hires: el.get_attribute("data-old-hires"),
        hires: el.get_attribute("data-a-hires"),
        dynamic: el.get_attribute("data-a-dynamic-image"),
        src: el.get_attribute("src"),
    };
    let any = attrs.old_hires.is_some()
        || attrs.hires.is_some()
        || attrs.dynamic.is_some()
        || attrs.src.is_some();
    if any && c.image_attrs.len() < 8 {
        c.image_attrs.push(attrs);
    }
}

/// What an element's id alone tells: flags, attribute captures and page signals.
/// Returns true when the element is a main image.
fn by_id(c: &mut Collected, el: &Element, id: &[u8]) -> bool {
    match id {
        b"ASIN" => first_attr(&mut c.asin_input, el, "value"),
        b"acrPopover" => first_attr(&mut c.acr_title, el, "title"),
        b"attach-base-product-price" => first_attr(&mut c.attach_price, el, "value"),
        b"landingImage"
        | b"imgBlkFront"
        | b"ebooksImgBlkFront"
        | b"main-image"
        | b"prodImage"
        | b"original-main-image" => return true,
        b"buybox" | b"addToCart" | b"add-to-cart-button" | b"buy-now-button" => {
            c.buybox_seen = true
        }
        b"buybox-see-all-buying-choices" | b"buybox-see-all-buying-choices-announce" => {
            c.see_all_options = true
        }
        b"videoCount" | b"main-video-container" => c.video_marker = true,
        b"zg" | b"zg-right-col" | b"gridItemRoot" | b"zg_banner_text" => {
            c.signals.bestseller_list = true
        }
        b"resultsCol" | b"s-results-list-atf" => c.signals.search_results = true,
        b"gw-layout"
        | b"gateway-page"
        | b"desktop-banner"
        | b"gw-desktop-herotator"
        | b"gwcswTower" => c.signals.gateway = true,
        b"cm_cr-review_list" | b"olpOfferList" | b"aod-container" => {
            c.signals.reviews_or_offers = true
        }
        b"gallery-shelf" => c.signals.gallery_shelf = true,
        b"dp"
        | b"dp-container"
        | b"ppd"
        | b"centerCol"
        | b"titleSection"
        | b"title_feature_div"
        | b"corePrice_feature_div"
        | b"corePriceDisplay_desktop_feature_div"
        | b"apex_desktop"
        | b"averageCustomerReviews"
        | b"feature-bullets"
        | b"productDescription"
        | b"prodDetails"
        | b"detailBullets_feature_div"
        | b"imageBlock"
        | b"availability" => c.signals.product_layout = true,
        _ => {}
    }
    false
}

/// What the element's classes tell. Returns true when a class makes it a region.
fn by_class(c: &mut Collected, s: &Scan, t: &TagView<'_>, classes: &[u8]) -> bool {
    let (mut region, mut card) = (false, false);
    let regions = &tables().region_classes;
    for class in classes.split(|&b| is_space(b)).filter(|w| !w.is_empty()) {
        match class {
            b"a-icon-prime"
                if s.inside(Container::Buybox)
                    || (is_tag(t, "i") && s.inside(Container::PrimeScope)) =>
            {
                c.prime = true
            }
            b"videoThumbnail" if s.inside(Container::AltImages) => c.video_marker = true,
            b"videoBlockIngress" if is_tag(t, "div") => c.video_marker = true,
            b"a-carousel-card" | b"octopus-pc-item" if is_tag(t, "li") => card = true,
            b"p13n-sc-uncoverable-faceout" if is_tag(t, "div") => card = true,
            b"zg-grid-general-faceout" if is_tag(t, "div") => c.signals.bestseller_list = true,
            _ => {}
        }
        region = region || regions.contains(class);
    }
    if card {
        c.signals.shelf_cards = c.signals.shelf_cards.saturating_add(1);
    }
    region
}

/// The element facts that depend on the tag: head links, inputs, images, swatches.
/// Returns true when the tag makes it a region (`select[name=quantity]`).
fn by_tag(c: &mut Collected, s: &mut Scan, el: &Element, t: &TagView<'_>) -> bool {
    let name = t.name;
    if name.eq_ignore_ascii_case(b"input") {
        match t.name_attr {
            Some(b"ASIN" | b"ASIN.0") => first_attr(&mut c.asin_input, el, "value"),
            Some(b"a") if s.inside(Container::AddToCart) => {
                first_attr(&mut c.asin_form, el, "value")
            }
            Some(b"asin") if s.inside(Container::HandleBuy) => {
                first_attr(&mut c.asin_form, el, "value")
            }
            _ => {}
        }
    } else if name.eq_ignore_ascii_case(b"li") {
        if s.inside(Container::Twister) && c.swatches.len() < LIST_CAP {
            if let Some(asin) = el.get_attribute("data-asin") {
                if crate::text::is_asin(asin.trim()) {
                    let selected = el
                        .get_attribute("data-initiallySelected")
                        .is_some_and(|v| v == "true")
                        || t.class
                            .is_some_and(|v| memchr::memmem::find(v, b"swatchSelect").is_some());
                    c.swatches.push((asin.trim().to_string(), selected));
                }
            }
        }
    } else if name.eq_ignore_ascii_case(b"div") {
        if t.component == Some(b"s-search-result") {
            c.signals.search_results = true;
        }
    } else if name.eq_ignore_ascii_case(b"link") {
        if el.get_attribute("rel").is_some_and(|r| r == "canonical") {
            first_attr(&mut c.canonical, el, "href");
        }
    } else if name.eq_ignore_ascii_case(b"meta") {
        if el.get_attribute("property").is_some_and(|p| p == "og:url") {
            first_attr(&mut c.og_url, el, "content");
        }
        if !s.charset_found {
            if let Some(e) = meta_charset(el) {
                s.encoding = e;
                s.charset_found = true;
            }
        }
    } else if name.eq_ignore_ascii_case(b"select") {
        return t.name_attr == Some(b"quantity");
    }
    false
}

/// The encoding a `<meta>` switches to, by the rule lol_html applies (`charset`, or
/// `http-equiv=Content-Type` with a `charset` parameter), ASCII-compatible ones only.
fn meta_charset(el: &Element) -> Option<&'static Encoding> {
    let label = el.get_attribute("charset").or_else(|| {
        let equiv = el.get_attribute("http-equiv")?;
        if !equiv.eq_ignore_ascii_case("Content-Type") {
            return None;
        }
        let content = el.get_attribute("content")?;
        let lower = content.to_ascii_lowercase();
        let at = lower.find("charset=")? + "charset=".len();
        let rest = content[at..].trim_start_matches(['"', '\'']);
        let end = rest
            .find(|c: char| c == ';' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    })?;
    Encoding::for_label_no_replacement(label.trim().as_bytes()).filter(|e| e.is_ascii_compatible())
}

fn on_start_tag(c: &mut Collected, s: &mut Scan, el: &mut Element, raw: &[u8]) -> Ends {
    let t = tag_view(raw);
    let mut ends = Ends {
        region: by_tag(c, s, el, &t),
        containers: 0,
    };
    let mut image = t.name.eq_ignore_ascii_case(b"img") && s.inside(Container::ImageBox);
    if let Some(id) = t.id {
        image |= by_id(c, el, id);
        if let Some(role) = tables().ids.get(id) {
            ends.region |= role.region;
            for &(tag, k) in &role.containers {
                if is_tag(&t, tag) {
                    ends.containers |= 1 << k as u16;
                }
            }
        }
    }
    if image {
        push_image(c, el);
    }
    if let Some(class) = t.class {
        ends.region |= by_class(c, s, &t, class);
    }
    ends
}

/// What an element opened that its end tag closes.
#[derive(Debug, Default, Clone, Copy)]
struct Ends {
    region: bool,
    containers: u16,
}

/// Runs pass one; fills `state` with element facts and regions.
pub(super) fn run(
    html: &[u8],
    encoding: &'static Encoding,
    state: &Rc<RefCell<Collected>>,
) -> Scan {
    let scan = Rc::new(RefCell::new(Scan {
        regions: Vec::new(),
        depth: [0; CONTAINERS],
        encoding,
        charset_found: false,
    }));
    {
        let (st, sc) = (state.clone(), scan.clone());
        let handler = move |el: &mut Element| {
            let at = el.source_location().bytes();
            let raw = html.get(at.clone()).unwrap_or_default();
            let mut s = sc.borrow_mut();
            let ends = on_start_tag(&mut st.borrow_mut(), &mut s, el, raw);
            if !(ends.region || ends.containers != 0) || !el.can_have_content() {
                return Ok(());
            }
            let region = ends.region.then(|| {
                s.regions.push((at.start, usize::MAX));
                s.regions.len() - 1
            });
            for k in 0..CONTAINERS {
                if ends.containers & (1 << k) != 0 {
                    s.depth[k] += 1;
                }
            }
            let sc2 = sc.clone();
            let close = move |s: &mut Scan, end: usize| {
                if let Some(i) = region {
                    s.regions[i].1 = end;
                }
                for k in 0..CONTAINERS {
                    if ends.containers & (1 << k) != 0 {
                        s.depth[k] = s.depth[k].saturating_sub(1);
                    }
                }
            };
            let registered = el.on_end_tag(Box::new(move |end: &mut EndTag| {
                close(&mut sc2.borrow_mut(), end.source_location().bytes().end);
                Ok(())
            }));
            if registered.is_err() {
                close(&mut s, at.end);
            }
            Ok(())
        };
        let mut handlers = Vec::with_capacity(1);
        if let Ok(any) = "*".parse::<Selector>() {
            handlers.push((
                Cow::Owned(any),
                ElementContentHandlers::default().element(handler),
            ));
        }
        let settings = Settings {
            element_content_handlers: handlers,
            encoding: lol_html::AsciiCompatibleEncoding::new(encoding)
                .unwrap_or_else(lol_html::AsciiCompatibleEncoding::utf_8),
            strict: false,
            adjust_charset_on_meta_tag: true,
            ..Settings::new()
        };
        let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
        // A parse error only means the rest of the page is lost; what was read stays.
        if rewriter.write(html).is_ok() {
            let _ = rewriter.end();
        }
    }
    let mut s = scan.borrow_mut();
    Scan {
        regions: std::mem::take(&mut s.regions),
        depth: s.depth,
        encoding: s.encoding,
        charset_found: s.charset_found,
    }
}

/// The regions' bytes in document order, nested ones inside their outermost region
/// once; a region whose end tag never came runs to the end of the page.
pub(super) fn fragments(html: &[u8], regions: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut covered = 0usize;
    for &(start, end) in regions {
        let end = end.min(html.len());
        let start = start.max(covered);
        if start < end {
            out.extend_from_slice(&html[start..end]);
            covered = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_tags_read_like_the_tokenizer() {
        let t =
            tag_view(b"<DIV class='a b' ID=x id=y data-component-type=\"s-search-result\" hidden>");
        assert_eq!(t.name, b"DIV");
        assert_eq!(t.id, Some(&b"x"[..]));
        assert_eq!(t.class, Some(&b"a b"[..]));
        assert_eq!(t.component, Some(&b"s-search-result"[..]));
        let t = tag_view(b"<input/name=ASIN value=\"B0\">");
        assert_eq!(t.name, b"input");
        assert_eq!(t.name_attr, Some(&b"ASIN"[..]));
        let t = tag_view(b"<a =x id = \"q\" class");
        assert_eq!(t.id, Some(&b"q"[..]));
        assert_eq!(t.class, Some(&b""[..]));
        assert_eq!(
            tag_view(b"<br>"),
            TagView {
                name: b"br",
                ..TagView::default()
            }
        );
        assert_eq!(tag_view(b"").name, b"");
        let t = tag_view(b"<span id=\"unterminated");
        assert_eq!(t.id, Some(&b"unterminated"[..]));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_read_as_a_tag_without_panic(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let t = tag_view(&raw);
            proptest::prop_assert!(t.name.len() <= raw.len());
        }

        #[test]
        fn any_regions_copy_at_most_the_page(
            regions in proptest::collection::vec((0usize..300, 0usize..300), 0..20),
        ) {
            let html = [b'x'; 256];
            let mut regions = regions;
            regions.sort();
            proptest::prop_assert!(fragments(&html, &regions).len() <= html.len());
        }
    }

    #[test]
    fn nested_and_unclosed_regions_are_copied_once() {
        let html = b"0123456789abcdef";
        assert_eq!(fragments(html, &[(1, 3), (5, 9), (6, 8)]), b"125678");
        assert_eq!(
            fragments(html, &[(2, 4), (3, usize::MAX)]),
            b"23456789abcdef"
        );
        assert_eq!(fragments(html, &[]), b"");
    }

    #[test]
    fn containers_scope_element_facts() {
        let st = Rc::new(RefCell::new(Collected::default()));
        let s = run(
            b"<div id=rightCol><i class='a-icon a-icon-prime'></i></div>\
              <div id=twister><ul><li data-asin=B000000001 class=swatchSelect></li></ul></div>\
              <li data-asin=B000000002></li>\
              <div id=imgTagWrapperId><img id=landingImage src='https://x/1.jpg'></div>\
              <form id=addToCart><input name=a value=B000000003></form><input name=a value=B000000004>\
              <span id=productTitle>T</span>",
            encoding_rs::UTF_8,
            &st,
        );
        let c = st.borrow();
        assert!(c.prime);
        assert_eq!(c.swatches, vec![("B000000001".to_string(), true)]);
        assert_eq!(c.image_attrs.len(), 1);
        assert_eq!(c.asin_form.as_deref(), Some("B000000003"));
        assert_eq!(s.regions.len(), 1);
        assert!(s.depth.iter().all(|&d| d == 0));
    }

    #[test]
    fn a_card_counts_once_and_page_signals_come_from_ids_and_classes() {
        let st = Rc::new(RefCell::new(Collected::default()));
        run(
            b"<ol><li class='a-carousel-card octopus-pc-item'></li><li class=a-carousel-card></li>\
              <div class=a-carousel-card></div></ol><div id=gallery-shelf></div>\
              <div data-component-type=s-search-result></div><div id=centerCol></div>",
            encoding_rs::UTF_8,
            &st,
        );
        let c = st.borrow();
        assert_eq!(c.signals.shelf_cards, 2);
        assert!(c.signals.gallery_shelf && c.signals.search_results && c.signals.product_layout);
    }

    #[test]
    fn prime_outside_its_containers_is_not_the_buy_box() {
        let st = Rc::new(RefCell::new(Collected::default()));
        run(
            b"<div id=other><i class=a-icon-prime></i></div><div id=rightCol><span class=a-icon-prime></span></div>",
            encoding_rs::UTF_8,
            &st,
        );
        assert!(!st.borrow().prime);
    }

    #[test]
    fn the_first_meta_charset_switches_the_encoding() {
        let st = Rc::new(RefCell::new(Collected::default()));
        let s = run(
            b"<meta http-equiv=Content-Type content='text/html; charset=ISO-8859-1'><meta charset=utf-8>",
            encoding_rs::UTF_8,
            &st,
        );
        assert_eq!(s.encoding, encoding_rs::WINDOWS_1252);
    }
}
