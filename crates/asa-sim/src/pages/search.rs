//! The search result page (`/s?k=...`): `div[data-component-type="s-search-result"]`
//! cards in the 2024-2026 layout, sponsored cards, badges, pagination, and Amazon's
//! "No results for" page.

use super::padding::{head_bulk, tail_bulk};
use super::{a_price, esc, footer, html_lang, nav, star_class, store_name};
use crate::detrand::{hash_parts, Stream, BASE62};
use crate::i18n::{fill, labels, Labels};
use crate::money::{format_count, format_rating, money_style, MoneyStyle};
use crate::truth::{price_minor, SearchResultTruth, SearchTruth};
use std::fmt::Write;

/// Renders the search page for `t`, padded to about `target_bytes`.
pub fn search_page(t: &SearchTruth, target_bytes: usize) -> String {
    let l = labels(&t.language);
    let style = money_style(t.marketplace, &t.language);
    let mut bulk = Stream::new(hash_parts(&[
        "search-bulk",
        t.marketplace.domain(),
        &t.query,
        &t.page.to_string(),
    ]));
    let mut out = String::with_capacity(target_bytes + 64 * 1024);
    let store = store_name(t.marketplace);
    let _ = writeln!(
        out,
        "<!doctype html><html lang=\"{}\" class=\"a-no-js\" data-19ax5a9jf=\"dingo\"><head><meta charset=\"utf-8\">",
        html_lang(&t.language)
    );
    head_bulk(&mut out, target_bytes / 5, &mut bulk);
    let _ = write!(
        out,
        "<title>{store} : {q}</title></head><body class=\"a-m-{d} a-aui_72554-c s-search-results-page\"><div id=\"a-page\">",
        q = esc(&t.query),
        d = t.marketplace.domain().replace('.', "_"),
    );
    nav(&mut out, t.marketplace, &t.language, &t.query);
    out.push_str("<div id=\"search\" class=\"a-section\"><div class=\"s-desktop-width-max s-desktop-content s-wide-grid-style-t1 s-opposite-dir sg-row\"><div class=\"sg-col-20-of-24 s-matching-dir sg-col-16-of-20 sg-col sg-col-8-of-12 sg-col-12-of-16\"><div class=\"sg-col-inner\"><span data-component-type=\"s-search-results\" class=\"rush-component s-latency-cf-section\"><div class=\"s-main-slot s-result-list s-search-results sg-row\">");
    if t.no_results {
        let _ = write!(
            out,
            "<div class=\"sg-col-20-of-24 s-result-item sg-col-0-of-12 sg-col-16-of-20 sg-col s-widget sg-col-12-of-16\" data-component-type=\"s-messaging-widget-results-header\"><div class=\"sg-col-inner\"><div class=\"a-section a-spacing-none a-spacing-top-medium\"><div class=\"a-row s-no-outline\"><span class=\"a-size-medium a-color-base\">{} </span><span class=\"a-size-medium a-color-base a-text-bold\">{}</span><span class=\"a-size-medium a-color-base\">.</span></div><div class=\"a-row\"><span class=\"a-size-medium a-color-base\">Try checking your spelling or use more general terms</span></div></div></div></div>",
            esc(l.no_results),
            esc(&t.query)
        );
    } else {
        let _ = write!(
            out,
            "<div class=\"sg-col-20-of-24 s-result-item s-widget\" data-component-type=\"s-result-info-bar\"><h2 class=\"a-size-base a-spacing-small a-spacing-top-small a-text-normal\"><span>{}-{} / {}</span> <span class=\"a-color-state a-text-bold\">\"{}\"</span></h2></div>",
            (t.page - 1) * 16 + 1,
            t.page * 16,
            format_count(u64::from(t.total_pages) * 16, &t.language),
            esc(&t.query)
        );
        for (i, r) in t.results.iter().enumerate() {
            card(&mut out, r, i + 1, l, &style, &t.language, &mut bulk);
        }
        pagination(&mut out, t);
    }
    out.push_str("</div></span></div></div></div></div>");
    tail_bulk(&mut out, target_bytes, &mut bulk);
    footer(&mut out, t.marketplace);
    out.push_str("</div></body></html>\n");
    out
}

fn card(
    out: &mut String,
    r: &SearchResultTruth,
    index: usize,
    l: &Labels,
    style: &MoneyStyle,
    language: &str,
    s: &mut Stream,
) {
    let uuid = format!(
        "{}-{}-{}",
        s.chars(BASE62, 8),
        s.chars(BASE62, 4),
        s.chars(BASE62, 12)
    )
    .to_lowercase();
    let href = if r.is_sponsored {
        format!(
            "/sspa/click?ie=UTF8&spc={}&url={}",
            s.chars(BASE62, 40),
            percent_encoding::utf8_percent_encode(
                &format!("{}/ref=sr_1_{index}_sspa?psc=1", r.url),
                percent_encoding::NON_ALPHANUMERIC
            )
        )
    } else {
        format!("{}/ref=sr_1_{index}", r.url)
    };
    let href = esc(&href);
    let _ = write!(
        out,
        "<div role=\"listitem\" data-asin=\"{asin}\" data-index=\"{index}\" data-uuid=\"{uuid}\" data-component-type=\"s-search-result\" class=\"sg-col-4-of-24 sg-col-4-of-12 s-result-item s-asin sg-col-4-of-16 {ad}sg-col s-widget-spacing-small sg-col-4-of-20\" data-cel-widget=\"search_result_{index}\"><div class=\"sg-col-inner\"><div cel_widget_id=\"MAIN-SEARCH_RESULTS-{index}\" class=\"s-widget-container s-spacing-small s-widget-container-height-small celwidget slot=MAIN template=SEARCH_RESULTS widgetId=search-results_{index}\"><div class=\"puis-card-container s-card-container s-overflow-hidden aok-relative puis-include-content-margin puis s-latency-cf-section puis-card-border\" data-cy=\"asin-faceout-container\"><div class=\"a-section a-spacing-base\">",
        asin = r.asin,
        ad = if r.is_sponsored { "AdHolder " } else { "" },
    );
    let badge = |out: &mut String, id: &str, text: &str| {
        let _ = write!(
            out,
            "<div class=\"a-section a-spacing-none aok-relative puis-status-badge-container s-grid-status-badge-container\"><span id=\"{asin}-{id}\" class=\"a-badge\" aria-labelledby=\"{asin}-{id}-label\" data-a-badge-type=\"status\"><span id=\"{asin}-{id}-label\" class=\"a-badge-label\" data-a-badge-color=\"sx-lightning-deal-red\" aria-hidden=\"true\"><span class=\"a-badge-label-inner a-text-ellipsis\"><span class=\"a-badge-text\" data-a-badge-color=\"sx-cloud\">{text}</span></span></span></span></div>",
            asin = r.asin,
            text = esc(text)
        );
    };
    if r.best_seller {
        badge(out, "best-seller", l.best_seller);
    }
    if r.is_amazons_choice {
        badge(out, "amazons-choice", l.amazons_choice);
    }
    let _ = write!(
        out,
        "<div class=\"s-product-image-container aok-relative s-text-center s-image-overlay-grey puis-image-overlay-grey s-padding-left-small s-padding-right-small puis-spacing-small s-height-equalized puis\" data-cy=\"image-container\"><span data-component-type=\"s-product-image\" class=\"rush-component\"><a aria-hidden=\"true\" class=\"a-link-normal s-no-outline\" tabindex=\"-1\" href=\"{href}\"><div class=\"a-section aok-relative s-image-square-aspect\"><img class=\"s-image\" src=\"{img}\" srcset=\"{img} 1x, {img2} 2x\" alt=\"{alt}\" data-image-index=\"{index}\" data-image-load=\"\" data-image-latency=\"s-product-image\"/></div></a></span></div><div class=\"a-section a-spacing-small puis-padding-left-small puis-padding-right-small\"><div data-cy=\"title-recipe\" class=\"a-section a-spacing-none a-spacing-top-small s-title-instructions-style\">",
        img = esc(&r.image),
        img2 = esc(&r.image.replace("_AC_UL320_", "_AC_UL640_QL65_")),
        alt = esc(&if r.is_sponsored { format!("{} - {}", l.sponsored, r.title) } else { r.title.clone() }),
    );
    if r.is_sponsored {
        let _ = write!(
            out,
            "<div class=\"a-row a-spacing-micro\"><span class=\"a-declarative\" data-action=\"a-popover\"><a href=\"javascript:void(0)\" role=\"button\" style=\"text-decoration: none;\" class=\"puis-label-popover puis-sponsored-label-text\"><span class=\"puis-label-popover-default\"><span aria-label=\"{s}\" class=\"a-color-secondary\">{s}</span></span><span class=\"puis-label-popover-hover\"><span aria-hidden=\"true\" class=\"a-color-base\">{s}</span></span> <span class=\"aok-inline-block puis-sponsored-label-info-icon\"></span></a></span></div>",
            s = esc(l.sponsored)
        );
    }
    let _ = write!(
        out,
        "<a class=\"a-link-normal s-line-clamp-4 s-link-style a-text-normal\" href=\"{href}\"><h2 aria-label=\"{aria}\" class=\"a-size-base-plus a-spacing-none a-color-base a-text-normal\"><span>{title}</span></h2></a></div>",
        aria = esc(&if r.is_sponsored { format!("{} - {}", l.sponsored, r.title) } else { r.title.clone() }),
        title = esc(&r.title),
    );
    if r.rating.is_some() || r.sales_volume.is_some() {
        out.push_str("<div data-cy=\"reviews-block\" class=\"a-section a-spacing-none a-spacing-top-micro\">");
    }
    if let (Some(rating), Some(n)) = (r.rating, r.reviews_count) {
        let shown = format_rating((rating * 10.0).round() as u32, language);
        let stars = fill(l.stars, &[("r", &shown)]);
        let count = format_count(n, language);
        let _ = write!(
            out,
            "<div class=\"a-row a-size-small\"><span aria-hidden=\"true\" class=\"a-size-small a-color-base\">{shown}</span><span class=\"a-declarative\" data-action=\"a-popover\"><a aria-label=\"{stars}\" class=\"a-popover-trigger a-declarative\" href=\"javascript:void(0)\" role=\"button\"><i aria-hidden=\"true\" class=\"a-icon a-icon-star-small a-star-small-{cls} aok-align-bottom\"><span class=\"a-icon-alt\">{stars}</span></i><i class=\"a-icon a-icon-popover\"></i></a></span> <a aria-label=\"{aria}\" class=\"a-link-normal s-underline-text s-underline-link-text s-link-style\" href=\"{href}#customerReviews\"><span aria-hidden=\"true\" class=\"a-size-small puis-normal-weight-text s-underline-text\">({count})</span></a></div>",
            stars = esc(&stars),
            cls = star_class(rating),
            aria = esc(&fill(l.ratings, &[("n", &count)])),
        );
    }
    if let Some(sales) = &r.sales_volume {
        let _ = write!(out, "<div class=\"a-row a-size-base\"><span class=\"a-size-base a-color-secondary\">{}</span></div>", esc(sales));
    }
    if r.rating.is_some() || r.sales_volume.is_some() {
        out.push_str("</div>");
    }
    out.push_str("<div data-cy=\"price-recipe\" class=\"a-section a-spacing-none a-spacing-top-small s-price-instructions-style\">");
    if let (Some(price), Some(text)) = (r.price, &r.price_text) {
        let _ = write!(out, "<div class=\"a-row a-size-base a-color-base\"><a class=\"a-link-normal s-no-hover s-underline-text s-underline-link-text s-link-style a-text-normal\" href=\"{href}\">");
        a_price(
            out,
            price_minor(price, style.decimals),
            style,
            text,
            "\" data-a-size=\"xl\" data-a-color=\"base",
        );
        if let Some(strike) = r.price_strikethrough {
            let minor = price_minor(strike, style.decimals);
            let strike_text = crate::money::format_money(minor, style);
            let _ = write!(
                out,
                " <div class=\"a-section aok-inline-block\"><span class=\"a-size-base a-color-secondary\">{} </span><span class=\"a-price a-text-price\" data-a-size=\"b\" data-a-strike=\"true\" data-a-color=\"secondary\"><span class=\"a-offscreen\">{t}</span><span aria-hidden=\"true\">{t}</span></span></div>",
                esc(l.list_short),
                t = esc(&strike_text)
            );
        }
        out.push_str("</a></div>");
    }
    out.push_str("</div><div data-cy=\"delivery-recipe\" class=\"a-section a-spacing-none a-spacing-top-micro\">");
    if r.is_prime {
        out.push_str("<div class=\"a-row s-align-children-center\"><span class=\"aok-relative s-icon-text-medium s-prime\"><i class=\"a-icon a-icon-prime a-icon-medium\" role=\"img\" aria-label=\"Amazon Prime\"></i></span></div>");
    }
    if r.price.is_some() {
        let _ = write!(out, "<div class=\"a-row a-color-base udm-primary-delivery-message\"><span class=\"a-color-base\">{} <span class=\"a-color-base a-text-bold\">{}</span></span></div>", esc(l.free_delivery), esc(l.delivery_day));
    }
    out.push_str("</div></div></div></div></div></div></div>");
}

fn pagination(out: &mut String, t: &SearchTruth) {
    let _ = write!(
        out,
        "<div class=\"sg-col-20-of-24 s-result-item s-widget\" data-component-type=\"s-pagination\"><div aria-label=\"pagination\" class=\"a-section a-text-center s-pagination-container\" role=\"navigation\"><span class=\"s-pagination-strip\">"
    );
    let q = percent_encoding::utf8_percent_encode(&t.query, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    if t.page > 1 {
        let _ = write!(out, "<a href=\"/s?k={q}&amp;page={p}\" class=\"s-pagination-item s-pagination-previous s-pagination-button\">Previous</a>", p = t.page - 1);
    }
    for p in 1..=t.total_pages.min(3).max(t.page) {
        if p == t.page {
            let _ = write!(out, "<span class=\"s-pagination-item s-pagination-selected\" aria-label=\"Current page, page {p}\">{p}</span>");
        } else if p <= 3 {
            let _ = write!(out, "<a href=\"/s?k={q}&amp;page={p}\" class=\"s-pagination-item s-pagination-button\" aria-label=\"Go to page {p}\">{p}</a>");
        }
    }
    let _ = write!(out, "<span class=\"s-pagination-item s-pagination-ellipsis\">…</span><span class=\"s-pagination-item s-pagination-disabled\">{}</span>", t.total_pages);
    if t.page < t.total_pages {
        let _ = write!(out, "<a href=\"/s?k={q}&amp;page={p}\" class=\"s-pagination-item s-pagination-next s-pagination-button s-pagination-separator\">Next</a>", p = t.page + 1);
    }
    out.push_str("</span></div></div>");
}
