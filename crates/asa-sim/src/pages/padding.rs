//! Bulk that makes generated pages weigh what real ones do: Amazon ships 1-2 MB per
//! product page, mostly inline CSS, inline scripts with widget state, and hidden widgets
//! (carousels, popovers). The bulk here has that shape, never one giant comment, and it
//! never carries the ids an extractor reads (`#productTitle`, `#corePrice...`).

use crate::detrand::{Stream, BASE62, UPPER_ALNUM};
use std::fmt::Write;

const WIDGETS: &[&str] = &[
    "sims-consolidated-1",
    "sims-consolidated-2",
    "sp_detail",
    "sp_detail2",
    "day0-sims",
    "p13n-desktop-sims-fbt",
    "rhf-shoveler",
    "session-sims",
    "brand-snapshot",
    "aplus",
];
const CLASSES: &[&str] = &[
    "a-carousel",
    "a-section",
    "a-row",
    "a-column",
    "a-box",
    "a-spacing-mini",
    "a-size-base",
    "a-link-normal",
    "a-truncate",
    "a-declarative",
    "p13n-sc-shoveler",
    "a-icon-star",
    "a-popover-preload",
    "celwidget",
    "a-carousel-card",
    "a-button-inner",
    "aok-hidden",
];
const PROPS: &[&str] = &[
    "margin",
    "padding",
    "width",
    "height",
    "line-height",
    "font-size",
    "max-width",
    "min-height",
    "top",
    "left",
    "border-radius",
    "letter-spacing",
];
const WORDS: &[&str] = &[
    "shoveler",
    "carousel",
    "impression",
    "widget",
    "render",
    "latency",
    "metrics",
    "card",
    "slot",
    "placement",
    "feature",
    "asin",
    "creative",
    "viewport",
    "session",
    "weblab",
];

/// Appends head-style bulk (CSS and scripts) until `out` is `target` bytes long.
pub fn head_bulk(out: &mut String, target: usize, s: &mut Stream) {
    while out.len() < target {
        if s.chance(0.5) {
            css_block(out, s);
        } else {
            script_block(out, s);
        }
    }
}

/// Appends body-tail bulk (hidden widgets, state scripts) until `out` is `target` bytes.
pub fn tail_bulk(out: &mut String, target: usize, s: &mut Stream) {
    while out.len() < target {
        match s.below(4) {
            0 => hidden_carousel(out, s),
            1 => state_script(out, s),
            2 => script_block(out, s),
            _ => css_block(out, s),
        }
    }
}

fn css_block(out: &mut String, s: &mut Stream) {
    out.push_str("<style type=\"text/css\">");
    for _ in 0..s.range(60, 140) {
        let _ = write!(
            out,
            "#{}_feature_div .{}-{}{{{}:{}px;{}:{}px}}",
            s.pick(WIDGETS),
            s.pick(CLASSES),
            s.chars(BASE62, 5),
            s.pick(PROPS),
            s.range(0, 400),
            s.pick(PROPS),
            s.range(0, 60)
        );
        if s.chance(0.1) {
            let _ = write!(
                out,
                "@media (max-width:{}px){{.{}{{display:none}}}}",
                s.range(600, 1400),
                s.pick(CLASSES)
            );
        }
    }
    out.push_str("</style>\n");
}

fn script_block(out: &mut String, s: &mut Stream) {
    let name = format!("{}-{}", s.pick(WORDS), s.pick(WORDS));
    let _ = write!(
        out,
        "<script type=\"text/javascript\">\nP.when('A', 'ready').execute('{name}', function(A) {{\n  var $ = A.$;\n  var config = {{"
    );
    for i in 0..s.range(30, 90) {
        let _ = write!(
            out,
            "\"{}{}\":{{\"id\":\"{}\",\"weight\":{},\"enabled\":{}}},",
            s.pick(WORDS),
            i,
            s.chars(BASE62, 16),
            s.range(0, 1000),
            s.chance(0.5)
        );
    }
    let _ = write!(
        out,
        "\"end\":null}};\n  if (window.ue && ue.count) {{ ue.count('{name}:loaded', 1); }}\n  A.on('a:popover:show:{name}', function () {{ $('#{name}').toggleClass('aok-hidden'); }});\n}});\n</script>\n"
    );
}

fn state_script(out: &mut String, s: &mut Stream) {
    let key = format!("{}-{}-state", s.pick(WORDS), s.pick(WORDS));
    let _ = write!(
        out,
        "<script type=\"a-state\" data-a-state=\"{{&quot;key&quot;:&quot;{key}&quot;}}\">{{\"requestId\":\"{}\",\"items\":[",
        s.chars(UPPER_ALNUM, 20)
    );
    for i in 0..s.range(20, 60) {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"asin\":\"B0{}\",\"rank\":{},\"token\":\"{}\"}}",
            s.chars(UPPER_ALNUM, 8),
            i,
            s.chars(BASE62, 24)
        );
    }
    out.push_str("]}</script>\n");
}

fn hidden_carousel(out: &mut String, s: &mut Stream) {
    let widget = s.pick(WIDGETS);
    let _ = write!(
        out,
        "<div id=\"{widget}_{}\" class=\"a-section a-spacing-large aok-hidden celwidget\" data-csa-c-type=\"widget\"><div class=\"a-carousel-container a-carousel-display-swap\" data-a-carousel-options=\"{{&quot;name&quot;:&quot;{widget}&quot;,&quot;set_size&quot;:24}}\"><ol class=\"a-carousel\" role=\"list\">",
        s.chars(BASE62, 6)
    );
    for i in 0..s.range(8, 16) {
        let asin = format!("B0{}", s.chars(UPPER_ALNUM, 8));
        let _ = write!(
            out,
            "<li class=\"a-carousel-card\" role=\"listitem\" aria-setsize=\"24\" aria-posinset=\"{}\"><div class=\"p13n-sc-uncoverable-faceout\" data-asin=\"{asin}\"><a class=\"a-link-normal\" href=\"/dp/{asin}/ref=pd_sim_{i}\"><img alt=\"\" src=\"https://m.media-amazon.com/images/I/{}L._AC_UL160_SR160,160_.jpg\" height=\"160\" width=\"160\"/><div class=\"p13n-sc-truncate-desktop-type2\" data-rows=\"2\">{} {} {}</div></a><div class=\"a-icon-row\"><i class=\"a-icon a-icon-star-small a-star-small-4\"><span class=\"a-icon-alt\">{}.{}/5</span></i><span class=\"a-size-small\">{}</span></div></div></li>",
            i + 1,
            s.chars(BASE62, 10),
            s.pick(WORDS),
            s.pick(WORDS),
            s.range(2, 99),
            s.range(3, 4),
            s.below(10),
            s.range(1, 9999),
        );
    }
    out.push_str("</ol></div></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_reaches_its_target_and_is_deterministic() {
        let mut a = String::new();
        tail_bulk(&mut a, 200_000, &mut Stream::new(1));
        let mut b = String::new();
        tail_bulk(&mut b, 200_000, &mut Stream::new(1));
        assert_eq!(a, b);
        assert!(a.len() >= 200_000 && a.len() < 260_000, "{}", a.len());
        assert!(!a.contains("productTitle") && !a.contains("corePrice"));
        assert!(a.contains("<style") && a.contains("<script") && a.contains("aok-hidden"));
    }
}
