//! HTML templates imitating Amazon's current desktop markup, and the block pages Amazon
//! serves instead of a product (captcha, WAF challenge, 503, 404, gallery shelf).

pub mod blocks;
pub mod padding;
pub mod product;
pub mod search;

use crate::money::{split_amount, MoneyStyle};
use asa_model::Marketplace;
use std::fmt::Write;

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `lang` attribute value for an interface language: `de_DE` -> `de-de`.
pub fn html_lang(language: &str) -> String {
    language.replace('_', "-").to_ascii_lowercase()
}

/// The storefront's display name: `Amazon.de`, `Amazon.co.uk`, `Amazon.com`.
pub fn store_name(m: Marketplace) -> String {
    format!("Amazon.{}", m.domain())
}

/// An `.a-price` span: `.a-offscreen` text plus the visible symbol/whole/fraction parts.
pub fn a_price(out: &mut String, minor: u64, style: &MoneyStyle, text: &str, attrs: &str) {
    let (whole, fraction) = split_amount(minor, style);
    let symbol = format!(
        "<span class=\"a-price-symbol\">{}</span>",
        esc(style.symbol)
    );
    let _ = write!(
        out,
        "<span class=\"a-price{attrs}\"><span class=\"a-offscreen\">{}</span><span aria-hidden=\"true\">",
        esc(text)
    );
    if style.prefix {
        out.push_str(&symbol);
    }
    if fraction.is_empty() {
        let _ = write!(out, "<span class=\"a-price-whole\">{whole}</span>");
    } else {
        let _ = write!(
            out,
            "<span class=\"a-price-whole\">{whole}<span class=\"a-price-decimal\">{}</span></span><span class=\"a-price-fraction\">{fraction}</span>",
            style.decimal
        );
    }
    if !style.prefix {
        out.push_str(&symbol);
    }
    out.push_str("</span></span>");
}

/// Star-class suffix for a rating: 4.4 -> `4-5`, 4.0 -> `4`, 3.2 -> `3`.
pub fn star_class(rating: f64) -> String {
    let halves = (rating * 2.0).round() as u32;
    if halves & 1 == 0 {
        format!("{}", halves / 2)
    } else {
        format!("{}-5", halves / 2)
    }
}

/// The page header every storefront page carries: logo, search box, locale switch.
pub fn nav(out: &mut String, m: Marketplace, language: &str, query: &str) {
    let _ = write!(
        out,
        r##"<header id="navbar-main" class="nav-opt-sprite nav-flex nav-locale-{lang} nav-lang-{short} nav-ssl nav-unrec nav-progressive-attribute"><div id="navbar" cel_widget_id="Navigation-desktop-navbar" role="navigation" class="nav-sprite-v1 celwidget nav-bluebeacon nav-a11y-t1 bold-focus-hover layout2 nav-flex layout3 layout3-alt nav-packard-glow hamburger nav-progressive-attribute"><div id="nav-belt"><div class="nav-left"><div id="nav-logo"><a href="/ref=nav_logo" id="nav-logo-sprites" class="nav-logo-link nav-progressive-attribute" aria-label="{store}"><span class="nav-sprite nav-logo-base"></span><span id="logo-ext" class="nav-sprite nav-logo-ext nav-progressive-content"></span><span class="nav-logo-locale">.{domain}</span></a></div></div><div class="nav-fill" id="nav-fill-search"><div id="nav-search"><form id="nav-search-bar-form" accept-charset="utf-8" action="/s/ref=nb_sb_noss" class="nav-searchbar nav-progressive-attribute" method="GET" name="site-search" role="search"><div class="nav-search-field"><input type="text" id="twotabsearchtextbox" value="{query}" name="field-keywords" autocomplete="off" placeholder="" class="nav-input nav-progressive-attribute" dir="auto" tabindex="0" aria-label="Search {store}" spellcheck="false"></div><div class="nav-search-submit nav-sprite"><span id="nav-search-submit-text" class="nav-search-submit-text nav-sprite nav-progressive-attribute" aria-label="Go"><input id="nav-search-submit-button" type="submit" class="nav-input nav-progressive-attribute" value="Go" tabindex="0"></span></div></form></div></div><div class="nav-right"><div id="nav-tools" class="layoutToolbarPadding"><a href="/customer-preferences/edit?ie=UTF8&amp;preferencesReturnUrl=%2F&amp;ref_=topnav_lang" id="icp-nav-flyout" class="nav-a nav-a-2 icp-link-style-2" aria-label="Choose a language for shopping."><span class="icp-nav-link-inner"><span class="nav-line-1"></span><span class="nav-line-2"><span class="icp-nav-flag icp-nav-flag-{country} icp-nav-flag-lop" role="img" aria-label="{country}"></span><div>{upper}</div></span></span></a><a href="/gp/cart/view.html?ref_=nav_cart" aria-label="0 items in cart" class="nav-a nav-a-2 nav-progressive-attribute" id="nav-cart"><div id="nav-cart-count-container"><span id="nav-cart-count" aria-hidden="true" class="nav-cart-count nav-cart-0 nav-progressive-attribute nav-progressive-content">0</span><span class="nav-cart-icon nav-sprite"></span></div></a></div></div></div></div></header>"##,
        lang = html_lang(language),
        short = &language[..2.min(language.len())],
        store = store_name(m),
        domain = m.domain(),
        query = esc(query),
        country = m.country().to_ascii_lowercase(),
        upper = language.get(..2).unwrap_or("en").to_ascii_uppercase(),
    );
}

/// The page footer.
pub fn footer(out: &mut String, m: Marketplace) {
    let _ = write!(
        out,
        r#"<div id="navFooter" class="navLeftFooter nav-sprite-v1" role="contentinfo"><a href="javascript:void(0)" id="navBackToTop" aria-label="Back to top"><div class="navFooterBackToTop"><span class="navFooterBackToTopText">Back to top</span></div></a><div class="navFooterLine navFooterLinkLine navFooterPadItemLine"><ul><li class="nav_first"><a href="/gp/help/customer/display.html?nodeId=508088&amp;ref_=footer_cou" class="nav_a">Conditions of Use</a></li><li><a href="/gp/help/customer/display.html?nodeId=468496&amp;ref_=footer_privacy" class="nav_a">Privacy Notice</a></li></ul><span>© 1996-2026, {store}, Inc. or its affiliates</span></div></div>"#,
        store = store_name(m)
    );
}
