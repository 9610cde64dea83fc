//! The product detail page (`/dp/<ASIN>`), built from a [`ProductTruth`] in the 2024-2026
//! desktop layout: `#productTitle`, `#bylineInfo`, `#corePriceDisplay_desktop_feature_div`,
//! `#availability`, `#acrPopover`, `#twister`, `#feature-bullets`, detail tables, the
//! image block script, the buy box, then hidden bulk up to the page's target size.

use super::padding::{head_bulk, tail_bulk};
use super::{a_price, esc, footer, html_lang, nav, star_class, store_name};
use crate::detrand::{hash_parts, Stream};
use crate::i18n::{fill, labels, Labels};
use crate::money::{format_count, format_rating, money_style, MoneyStyle};
use crate::truth::{price_minor, ProductTruth};
use std::fmt::Write;

/// Renders the product page for `t`, padded to about `target_bytes`.
pub fn product_page(t: &ProductTruth, target_bytes: usize) -> String {
    let l = labels(&t.language);
    let style = money_style(t.marketplace, &t.language);
    let mut bulk = Stream::new(hash_parts(&[
        "bulk",
        t.marketplace.domain(),
        &t.asin,
        &t.language,
    ]));
    let mut out = String::with_capacity(target_bytes + 64 * 1024);
    let store = store_name(t.marketplace);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\" class=\"a-no-js\" data-19ax5a9jf=\"dingo\"><head><meta charset=\"utf-8\">\n<script type=\"text/javascript\">var ue_t0=ue_t0||+new Date();var ue_furl='fls-eu.amazon.{}';var ue_mid='{}';</script>\n",
        html_lang(&t.language),
        t.marketplace.domain(),
        &t.seller_id.clone().unwrap_or_default(),
    );
    // Real pages carry roughly a quarter of their weight in the head.
    head_bulk(&mut out, target_bytes / 4, &mut bulk);
    let _ = write!(
        out,
        "<link rel=\"canonical\" href=\"{url}\"/><meta name=\"title\" content=\"{store}: {title}\"/><title>{store}: {title}</title>\n</head><body class=\"a-m-{domain} a-aui_72554-c a-aui_killswitch_csa_logger_372963-c dp\"><div id=\"a-page\">",
        url = esc(&t.url),
        title = esc(&t.title),
        domain = t.marketplace.domain().replace('.', "_"),
    );
    nav(&mut out, t.marketplace, &t.language, "");
    let _ = write!(
        out,
        "<div id=\"dp\" class=\"home_garden {lang}\"><div id=\"dp-container\" class=\"a-container\" role=\"main\">",
        lang = t.language
    );
    breadcrumbs(&mut out, t);
    out.push_str("<div id=\"ppd\"><div id=\"leftCol\" class=\"celwidget\">");
    image_block(&mut out, t);
    out.push_str("</div><div id=\"centerCol\" class=\"centerColAlign\">");
    title_and_byline(&mut out, t, l);
    reviews_summary(&mut out, t, l);
    core_price(&mut out, t, l, &style);
    twister(&mut out, t, l);
    bullets(&mut out, t, l);
    out.push_str("</div><div id=\"rightCol\" class=\"rightCol\">");
    buybox(&mut out, t, l, &style);
    out.push_str("</div></div>");
    description_and_details(&mut out, t, l);
    histogram(&mut out, t, l);
    out.push_str("<div id=\"dp-bottom-widgets\">");
    // The page ends up at or just over its target (by less than one bulk block).
    tail_bulk(&mut out, target_bytes, &mut bulk);
    out.push_str("</div></div></div>");
    footer(&mut out, t.marketplace);
    out.push_str("</div></body></html>\n");
    out
}

fn breadcrumbs(out: &mut String, t: &ProductTruth) {
    out.push_str("<div id=\"wayfinding-breadcrumbs_feature_div\" class=\"a-subheader a-breadcrumb feature\" data-feature-name=\"wayfinding-breadcrumbs\"><ul class=\"a-unordered-list a-horizontal a-size-small\">");
    for (i, (name, url)) in t.category.iter().enumerate() {
        if i > 0 {
            out.push_str("<li aria-hidden=\"true\" class=\"a-breadcrumb-divider\" role=\"presentation\"><span class=\"a-list-item a-color-tertiary\">›</span></li>");
        }
        let _ = write!(
            out,
            "<li><span class=\"a-list-item\"><a class=\"a-link-normal a-color-tertiary\" href=\"{}\"> {} </a></span></li>",
            esc(url),
            esc(name)
        );
    }
    out.push_str("</ul></div>");
}

fn image_block(out: &mut String, t: &ProductTruth) {
    let sizes = [
        (342, 365),
        (385, 411),
        (425, 454),
        (466, 498),
        (522, 558),
        (569, 608),
        (679, 725),
    ];
    let dynamic = |hi: &str| -> String {
        let base = hi.trim_end_matches("._AC_SL1500_.jpg");
        let parts: Vec<String> = sizes
            .iter()
            .map(|(w, h)| format!("\"{base}._AC_SX{w}_.jpg\":[{h},{w}]"))
            .collect();
        format!("{{{}}}", parts.join(","))
    };
    out.push_str("<div id=\"imageBlock_feature_div\" class=\"celwidget\" data-feature-name=\"imageBlock\"><script type=\"text/javascript\">\nP.when('A').register(\"ImageBlockATF\", function(A){\n    var data = {\n                'colorImages': { 'initial': [");
    for (i, img) in t.images.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let base = img.trim_end_matches("._AC_SL1500_.jpg");
        let _ = write!(
            out,
            "{{\"hiRes\":\"{img}\",\"thumb\":\"{base}._AC_SR38,50_.jpg\",\"large\":\"{base}._AC_.jpg\",\"main\":{},\"variant\":\"{}\",\"lowRes\":null,\"shoppableScene\":null}}",
            dynamic(img),
            if i == 0 { "MAIN".to_string() } else { format!("PT{i:02}") }
        );
    }
    let _ = write!(
        out,
        "]}},\n                'colorToAsin': {{'initial': {{}}}},\n                'holderRatio': 1.0,\n                'holderMaxHeight': 700,\n                'heroImage': {{'initial': []}},\n                'heroVideo': {{'initial': []}},\n                'spin360ColorData': {{'initial': {{}}}},\n                'title': '{}',\n                'airyConfigEnabled': false\n    }};\n    A.trigger('P.AboveTheFold');\n    return data;\n}});\n</script>",
        t.title.replace('\\', "\\\\").replace('\'', "\\'").replace('<', "\\u003c")
    );
    let main = &t.images[0];
    let _ = write!(
        out,
        "<div id=\"main-image-container\" class=\"a-dynamic-image-container\"><ul class=\"a-unordered-list a-nostyle a-horizontal list maintain-height\"><li class=\"image item itemNo0 maintain-height selected\"><span class=\"a-list-item\"><span class=\"a-declarative\" data-action=\"main-image-click\"><div id=\"imgTagWrapperId\" class=\"imgTagWrapper\"><img alt=\"{title}\" src=\"{src}\" data-old-hires=\"{main}\" onload=\"markFeatureRenderForImageBlock(); if(this.width/this.height &gt; 1.0){{this.className += ' a-stretch-horizontal'}}else{{this.className += ' a-stretch-vertical'}};this.onload='';\" data-a-image-name=\"landingImage\" class=\"a-dynamic-image a-stretch-vertical\" id=\"landingImage\" data-a-dynamic-image=\"{dynamic}\" style=\"max-width:679px;max-height:725px;\"/></div></span></span></li></ul></div>",
        title = esc(&t.title),
        src = esc(&main.replace("_AC_SL1500_", "_AC_SX679_")),
        main = esc(main),
        dynamic = esc(&dynamic(main)),
    );
    if t.has_videos {
        out.push_str("<div id=\"videoCount_feature_div\"><span id=\"videoCount\" class=\"a-size-mini a-color-secondary video-count\">3 VIDEOS</span></div>");
    }
    out.push_str("</div>");
}

fn title_and_byline(out: &mut String, t: &ProductTruth, l: &Labels) {
    let _ = write!(
        out,
        "<div id=\"title_feature_div\" class=\"celwidget\" data-feature-name=\"title\"><div id=\"titleSection\" class=\"a-section a-spacing-none\"><h1 id=\"title\" class=\"a-size-large a-spacing-none\"><span id=\"productTitle\" class=\"a-size-large product-title-word-break\">        {}       </span></h1></div></div><div id=\"bylineInfo_feature_div\" class=\"celwidget\" data-feature-name=\"bylineInfo\"><div class=\"a-section a-spacing-none\"><a id=\"bylineInfo\" class=\"a-link-normal\" href=\"/stores/{}/page/{}?ref_=ast_bln\">{}</a></div></div>",
        esc(&t.title),
        esc(&t.brand.replace(' ', "")),
        &t.parent_asin,
        esc(&fill(l.visit_store, &[("brand", &t.brand)])),
    );
}

fn reviews_summary(out: &mut String, t: &ProductTruth, l: &Labels) {
    out.push_str("<div id=\"averageCustomerReviews_feature_div\" class=\"celwidget\" data-feature-name=\"averageCustomerReviews\">");
    if let (Some(r), Some(n)) = (t.rating, t.reviews_count) {
        let tenths = (r * 10.0).round() as u32;
        let shown = format_rating(tenths, &t.language);
        let stars = fill(l.stars, &[("r", &shown)]);
        let ratings = fill(l.ratings, &[("n", &format_count(n, &t.language))]);
        let _ = write!(
            out,
            "<div id=\"averageCustomerReviews\" data-asin=\"{asin}\" data-ref=\"dpx_acr_pop_\"><span class=\"a-declarative\" data-action=\"acrStarsLink-click-metrics\"><span id=\"acrPopover\" class=\"reviewCountTextLinkedHistogram noUnderline\" title=\"{stars}\"><span class=\"a-declarative\" data-action=\"a-popover\"><a href=\"javascript:void(0)\" role=\"button\" class=\"a-popover-trigger a-declarative\"><span aria-hidden=\"true\" class=\"a-size-base a-color-base\"> {shown} </span><i class=\"a-icon a-icon-star a-star-{cls} cm-cr-review-stars-spacing-big\"><span class=\"a-icon-alt\">{stars}</span></i><i class=\"a-icon a-icon-popover\"></i></a></span></span></span><span class=\"a-letter-space\"></span><span class=\"a-declarative\" data-action=\"acrLink-click-metrics\"><a id=\"acrCustomerReviewLink\" class=\"a-link-normal\" href=\"#customerReviews\"><span id=\"acrCustomerReviewText\" aria-label=\"{ratings}\" class=\"a-size-base\">{ratings}</span></a></span></div>",
            asin = t.asin,
            stars = esc(&stars),
            cls = star_class(r),
            ratings = esc(&ratings),
        );
    }
    out.push_str("</div>");
}

fn core_price(out: &mut String, t: &ProductTruth, l: &Labels, style: &MoneyStyle) {
    out.push_str("<div id=\"corePriceDisplay_desktop_feature_div\" class=\"celwidget\" data-feature-name=\"corePriceDisplay_desktop\">");
    if let (Some(price), Some(text)) = (t.price, &t.price_text) {
        let minor = price_minor(price, style.decimals);
        out.push_str("<div class=\"a-section a-spacing-none aok-align-center aok-relative\">");
        if let Some(strike) = t.price_strikethrough {
            let pct = ((1.0 - price / strike) * 100.0).round() as u32;
            let _ = write!(out, "<span aria-hidden=\"true\" class=\"a-size-large a-color-price savingPriceOverride aok-align-center reinventPriceSavingsPercentageMargin savingsPercentage\">-{pct}%</span>");
        }
        a_price(out, minor, style, text, " aok-align-center reinventPricePriceToPayMargin priceToPay\" data-a-size=\"xl\" data-a-color=\"base");
        out.push_str("</div>");
        if let Some(strike_text) = &t.price_strikethrough_text {
            let _ = write!(
                out,
                "<div class=\"a-section a-spacing-small aok-align-center\"><span><span class=\"aok-relative\"><span aria-hidden=\"true\" class=\"a-size-small a-color-secondary aok-align-center basisPrice\">{} <span class=\"a-price a-text-price\" data-a-size=\"s\" data-a-strike=\"true\" data-a-color=\"secondary\"><span class=\"a-offscreen\">{text}</span><span aria-hidden=\"true\">{text}</span></span></span></span></span></div>",
                esc(l.list_price),
                text = esc(strike_text),
            );
        }
    }
    out.push_str("</div>");
}

fn twister(out: &mut String, t: &ProductTruth, l: &Labels) {
    if t.variations.is_empty() {
        return;
    }
    let selected = t
        .variations
        .iter()
        .find(|v| v.selected)
        .map(|v| v.dimensions[0].1.as_str())
        .unwrap_or("");
    let _ = write!(
        out,
        "<div id=\"twister_feature_div\" class=\"celwidget\" data-feature-name=\"twister\"><form id=\"twister\" class=\"a-spacing-none\" method=\"get\" action=\"/gp/product/{parent}\"><div id=\"variation_color_name\" class=\"a-section a-spacing-small\"><div class=\"a-row\"><label class=\"a-form-label\">{label}: </label><span class=\"selection\">{selected}</span></div><ul class=\"a-unordered-list a-nostyle a-button-list a-declarative a-button-toggle-group a-horizontal a-spacing-top-micro swatches swatchesSquare imageSwatches\" role=\"radiogroup\">",
        parent = t.parent_asin,
        label = esc(l.colour),
        selected = esc(selected),
    );
    for (i, v) in t.variations.iter().enumerate() {
        let value = &v.dimensions[0].1;
        let _ = write!(
            out,
            "<li id=\"color_name_{i}\" data-asin=\"{asin}\" data-defaultasin=\"{asin}\" data-dp-url=\"/dp/{asin}/ref=twister_{parent}?_encoding=UTF8&amp;psc=1\" class=\"{cls}\" title=\"{value}\"><span class=\"a-list-item\"><span class=\"a-button a-button-toggle\"><span class=\"a-button-inner\"><button class=\"a-button-text\" type=\"button\"><img alt=\"{value}\" src=\"{img}\"/></button></span></span></span></li>",
            asin = v.asin,
            parent = t.parent_asin,
            cls = if v.selected { "swatchSelect" } else { "swatchAvailable" },
            value = esc(value),
            img = esc(&t.images[i % t.images.len()].replace("_AC_SL1500_", "_SS36_")),
        );
    }
    out.push_str("</ul></div></form></div>");
}

fn bullets(out: &mut String, t: &ProductTruth, l: &Labels) {
    let _ = write!(
        out,
        "<div id=\"featurebullets_feature_div\" class=\"celwidget\" data-feature-name=\"featurebullets\"><div id=\"feature-bullets\" class=\"a-section a-spacing-medium a-spacing-top-small\"><hr aria-hidden=\"true\" class=\"a-divider-normal\"/><h2 class=\"a-size-base-plus a-text-bold\"> {} </h2><ul class=\"a-unordered-list a-vertical a-spacing-mini\">",
        esc(l.about)
    );
    for b in &t.bullets {
        let _ = write!(
            out,
            "<li class=\"a-spacing-mini\"><span class=\"a-list-item\"> {} </span></li>",
            esc(b)
        );
    }
    out.push_str("</ul></div></div>");
}

fn buybox(out: &mut String, t: &ProductTruth, l: &Labels, style: &MoneyStyle) {
    out.push_str(
        "<div id=\"buybox\" class=\"a-box-group\"><div class=\"a-box\"><div class=\"a-box-inner\">",
    );
    out.push_str(
        "<div id=\"corePrice_feature_div\" class=\"celwidget\" data-feature-name=\"corePrice\">",
    );
    if let (Some(price), Some(text)) = (t.price, &t.price_text) {
        out.push_str("<div class=\"a-section a-spacing-micro\">");
        a_price(
            out,
            price_minor(price, style.decimals),
            style,
            text,
            " aok-align-center\" data-a-size=\"xl\" data-a-color=\"price",
        );
        out.push_str("</div>");
    }
    out.push_str("</div>");
    if let Some(delivery) = &t.delivery {
        let (head, day) = delivery.split_at(l.free_delivery.len());
        let _ = write!(
            out,
            "<div id=\"deliveryBlockMessage\" class=\"a-section a-spacing-none\"><div id=\"mir-layout-DELIVERY_BLOCK\"><div class=\"a-spacing-base\" id=\"mir-layout-DELIVERY_BLOCK-slot-PRIMARY_DELIVERY_MESSAGE_LARGE\"><span data-csa-c-type=\"element\" data-csa-c-content-id=\"DEXUnifiedCXPDM\" data-csa-c-delivery-price=\"FREE\"> {} <span class=\"a-text-bold\">{}</span> </span></div></div></div>",
            esc(head),
            esc(day.trim())
        );
    }
    let colour = if t.in_stock {
        "a-color-success"
    } else {
        "a-color-price a-text-bold"
    };
    let _ = write!(
        out,
        "<div id=\"availability_feature_div\" class=\"celwidget\"><div id=\"availability\" class=\"a-section a-spacing-base\"><span class=\"a-size-medium {colour}\"> {} </span><br/></div></div>",
        esc(&t.stock)
    );
    if let Some(max) = t.max_quantity {
        let _ = write!(
            out,
            "<div id=\"selectQuantity\" class=\"a-section a-spacing-none a-padding-none\"><span class=\"a-dropdown-container\"><label for=\"quantity\" class=\"a-native-dropdown\">{}</label><select name=\"quantity\" autocomplete=\"off\" role=\"combobox\" id=\"quantity\" tabindex=\"0\" data-action=\"a-dropdown-select\" class=\"a-native-dropdown a-declarative\">",
            esc(l.quantity)
        );
        for q in 1..=max {
            let _ = write!(
                out,
                "<option value=\"{q}\"{}>{q}</option>",
                if q == 1 { " selected" } else { "" }
            );
        }
        out.push_str("</select></span></div>");
    }
    let _ = write!(
        out,
        "<input type=\"hidden\" id=\"ASIN\" name=\"ASIN\" value=\"{}\"><input type=\"hidden\" id=\"parentASIN\" name=\"parentASIN\" value=\"{}\">",
        t.asin, t.parent_asin
    );
    if let (Some(name), Some(id)) = (&t.seller_name, &t.seller_id) {
        let ships = if t.is_amazon_fulfilled {
            store_name(t.marketplace)
        } else {
            name.clone()
        };
        let _ = write!(
            out,
            "<div id=\"fulfillerInfoFeature_feature_div\" class=\"celwidget\"><div class=\"offer-display-feature-label a-size-small\"><span class=\"a-size-small a-color-tertiary\">{ships_label}</span></div><div class=\"offer-display-feature-text a-size-small\"><span class=\"a-size-small offer-display-feature-text-message\">{ships}</span></div></div><div id=\"merchantInfoFeature_feature_div\" class=\"celwidget\" data-feature-name=\"merchantInfoFeature\"><div class=\"offer-display-feature-label a-size-small\"><span class=\"a-size-small a-color-tertiary\">{sold_label}</span></div><div class=\"offer-display-feature-text a-size-small\"><a id=\"sellerProfileTriggerId\" class=\"a-link-normal\" href=\"/gp/help/seller/at-a-glance.html/ref=dp_merchant_link?ie=UTF8&amp;seller={id}&amp;asin={asin}\">{name}</a></div></div><span class=\"a-button a-button-primary\"><span class=\"a-button-inner\"><input id=\"add-to-cart-button\" name=\"submit.add-to-cart\" class=\"a-button-input\" type=\"submit\" value=\"{cart}\"></span></span>",
            ships_label = esc(l.ships_from),
            ships = esc(&ships),
            sold_label = esc(l.sold_by),
            name = esc(name),
            asin = t.asin,
            cart = esc(l.add_to_cart),
        );
        if t.is_prime {
            out.push_str("<i class=\"a-icon a-icon-prime a-icon-small\" role=\"img\" aria-label=\"Amazon Prime\"></i>");
        }
    }
    out.push_str("</div></div></div>");
}

fn description_and_details(out: &mut String, t: &ProductTruth, l: &Labels) {
    let _ = write!(
        out,
        "<div id=\"productDescription_feature_div\" class=\"celwidget\" data-feature-name=\"productDescription\"><h2>{}</h2><div id=\"productDescription\" class=\"a-section a-spacing-small\"><p><span> {} </span></p></div></div>",
        esc(l.description),
        esc(&t.description)
    );
    let _ = write!(
        out,
        "<div id=\"prodDetails\" class=\"a-section\"><h2>{}</h2><table id=\"productDetails_techSpec_section_1\" class=\"a-keyvalue prodDetTable\" role=\"presentation\">",
        esc(l.tech_details)
    );
    for (name, value) in t.product_details.iter().take(4) {
        let _ = write!(
            out,
            "<tr><th class=\"a-color-secondary a-size-base prodDetSectionEntry\"> {} </th><td class=\"a-size-base prodDetAttrValue\"> \u{200e}{} </td></tr>",
            esc(name),
            esc(value)
        );
    }
    out.push_str("</table></div><div id=\"detailBulletsWrapper_feature_div\" class=\"celwidget\"><div id=\"detailBullets_feature_div\"><ul class=\"a-unordered-list a-nostyle a-vertical a-spacing-none detail-bullet-list\">");
    for (name, value) in t.product_details.iter().skip(4) {
        let _ = write!(
            out,
            "<li><span class=\"a-list-item\"><span class=\"a-text-bold\">{} \u{200f}:\u{200e} </span><span>{}</span></span></li>",
            esc(name),
            esc(value)
        );
    }
    out.push_str("</ul><ul class=\"a-unordered-list a-nostyle a-vertical a-spacing-none detail-bullet-list\">");
    if let Some(((top, top_rank), rest)) = t.sales_rank.split_first() {
        let rank = |r: u64, cat: &str| {
            fill(
                l.rank_in,
                &[("rank", &format_count(r, &t.language)), ("cat", cat)],
            )
        };
        let _ = write!(
            out,
            "<li><span class=\"a-list-item\"><span class=\"a-text-bold\">{}:</span> {} (<a href=\"/gp/bestsellers/ref=pd_zg_ts\">Top 100</a>)<ul class=\"a-unordered-list a-nostyle a-vertical zg_hrsr\">",
            esc(l.bsr),
            esc(&rank(*top_rank, top))
        );
        for (cat, r) in rest {
            let _ = write!(
                out,
                "<li><span class=\"a-list-item\">{}</span></li>",
                esc(&rank(*r, cat))
            );
        }
        out.push_str("</ul></span></li>");
    }
    out.push_str("</ul></div></div>");
}

fn histogram(out: &mut String, t: &ProductTruth, l: &Labels) {
    let (Some(r), Some(n)) = (t.rating, t.reviews_count) else {
        return;
    };
    let shown = format_rating((r * 10.0).round() as u32, &t.language);
    let _ = write!(
        out,
        "<div id=\"customerReviews\" class=\"a-section\"><h2>{}</h2><div id=\"cm_cr_dp_d_rating_histogram\"><span data-hook=\"rating-out-of-text\" class=\"a-size-medium a-color-base\">{}</span><div class=\"a-row a-spacing-medium averageStarRatingNumerical\"><span data-hook=\"total-review-count\" class=\"a-size-base a-color-secondary\">{}</span></div><ul id=\"histogramTable\" class=\"a-unordered-list a-nostyle a-vertical\">",
        esc(l.customer_reviews),
        esc(&fill(l.stars, &[("r", &shown)])),
        esc(&fill(l.ratings, &[("n", &format_count(n, &t.language))])),
    );
    for (stars, pct) in &t.rating_stars_distribution {
        let label = fill(l.n_star, &[("n", &stars.to_string())]);
        let aria = fill(
            l.pct_reviews,
            &[("p", &pct.to_string()), ("n", &stars.to_string())],
        );
        let _ = write!(
            out,
            "<li class=\"a-align-center a-spacing-none\"><span class=\"a-list-item\"><a aria-label=\"{aria}\" class=\"a-size-base a-link-normal\" href=\"/product-reviews/{asin}/ref=acr_dp_hist_{stars}?ie=UTF8&amp;reviewerType=all_reviews\"><div class=\"a-section a-spacing-none a-text-left aok-nowrap\">{label}</div><div class=\"a-section a-spacing-none\"><div class=\"a-meter\" role=\"progressbar\" aria-valuenow=\"{pct}\"><div class=\"a-meter-bar\" style=\"width:{pct}%\"></div></div></div><div class=\"a-section a-spacing-none a-text-right aok-nowrap\">{pct}%</div></a></span></li>",
            aria = esc(&aria),
            asin = t.asin,
            label = esc(&label),
        );
    }
    out.push_str("</ul></div></div>");
}
