//! The pages Amazon serves instead of the one asked for: the robot-check captcha, the AWS
//! WAF JavaScript challenge, the 503 "Sorry! Something went wrong!" page, the 404 dog
//! page, the placeholder shelf of a delisted product, and pages in a layout no extractor
//! knows. Written for the project after the real ones' shape, not copied.

use super::{esc, footer, html_lang, nav, store_name};
use crate::detrand::{hash_parts, Stream, BASE62, UPPER_ALNUM};
use crate::truth::{derived_asin, ProductTruth};
use asa_model::Marketplace;
use std::fmt::Write;

const AUTOMATED_ACCESS: &str = "<!--\n        To discuss automated access to Amazon data please contact api-services-support@amazon.com.\n        For information about migrating to our APIs refer to our Marketplace APIs at https://developer.amazonservices.com/ref=rm_c_sv, or our Product Advertising API at https://affiliate-program.amazon.com/gp/advertising/api/detail/main.html/ref=rm_c_ac for advertising use cases.\n-->";

/// The classic robot check: "Type the characters you see in this image" (served with 200).
pub fn captcha(m: Marketplace, salt: &str) -> String {
    let mut s = Stream::new(hash_parts(&["captcha", m.domain(), salt]));
    format!(
        r#"<!doctype html><html lang="en-us" class="a-no-js"><head><meta charset="utf-8"><meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1"><title dir="ltr">{store}</title><meta name="viewport" content="width=device-width"><link rel="stylesheet" href="https://images-na.ssl-images-amazon.com/images/G/01/AUIClients/AmazonUI-{css}.secure.min._V1_.css"><script>var ue_sn = "opfcaptcha.amazon.{domain}", ue_id = '{ueid}';</script></head><body>
{auto}
<div class="a-container a-padding-double-large" style="min-width:350px;padding:44px 0 !important"><div class="a-row a-spacing-double-large" style="width: 350px; margin: 0 auto"><div class="a-row a-spacing-medium a-text-center"><i class="a-icon a-logo"></i></div>
<div class="a-box a-alert a-alert-info a-spacing-base"><div class="a-box-inner"><i class="a-icon a-icon-alert"></i><h4>Enter the characters you see below</h4><p class="a-last">Sorry, we just need to make sure you're not a robot. For best results, please make sure your browser is accepting cookies.</p></div></div>
<div class="a-section"><div class="a-box a-color-offset-background"><div class="a-box-inner a-padding-extra-large"><form method="get" action="/errors/validateCaptcha" name=""><input type=hidden name="amzn" value="{amzn}==" /><input type=hidden name="amzn-r" value="&#047;" />
<div class="a-row a-spacing-large"><div class="a-box"><div class="a-box-inner"><h4>Type the characters you see in this image:</h4><div class="a-row a-text-center"><img src="https://images-na.ssl-images-amazon.com/captcha/{dir}/Captcha_{img}.jpg"></div>
<div class="a-row a-spacing-base"><div class="a-row"><div class="a-column a-span6"></div><div class="a-column a-span6 a-span-last a-text-right"><a onclick="window.location.reload()">Try different image</a></div></div><input autocomplete="off" spellcheck="false" placeholder="Type characters" id="captchacharacters" name="field-keywords" class="a-span12" autocapitalize="off" autocorrect="off" type="text"></div></div></div></div>
<div class="a-section a-spacing-extra-large"><div class="a-row"><span class="a-button a-button-primary a-span12"><span class="a-button-inner"><button type="submit" class="a-button-text">Continue shopping</button></span></span></div></div></form></div></div></div></div>
<div class="a-divider a-divider-section"><div class="a-divider-inner"></div></div><div class="a-text-center a-spacing-small a-size-mini"><a href="https://www.amazon.{domain}/gp/help/customer/display.html/ref=footer_cou?ie=UTF8&amp;nodeId=508088">Conditions of Use</a><span class="a-letter-space"></span><a href="https://www.amazon.{domain}/gp/help/customer/display.html/ref=footer_privacy?ie=UTF8&amp;nodeId=468496">Privacy Policy</a></div><div class="a-text-center a-size-mini a-color-secondary">&copy; 1996-2026, Amazon.com, Inc. or its affiliates</div></div></body></html>
"#,
        store = store_name(m),
        domain = m.domain(),
        css = s.chars(b"0123456789abcdef", 40),
        ueid = s.chars(UPPER_ALNUM, 20),
        auto = AUTOMATED_ACCESS,
        amzn = s.chars(BASE62, 22),
        dir = s.chars(b"abcdefghijklmnopqrstuvwxyz", 8),
        img = s.chars(b"abcdefghijklmnopqrstuvwxyz", 10),
    )
}

/// The AWS WAF JavaScript challenge: no HTML form, a `challenge.js` and `gokuProps`.
pub fn waf_challenge(salt: &str) -> String {
    let mut s = Stream::new(hash_parts(&["waf", salt]));
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title></title><style>body {{ font-family: "Arial"; }}</style>
<script type="text/javascript">
    window.awsWafCookieDomainList = [];
    window.gokuProps = {{
        "key":"{key}",
        "iv":"{iv}",
        "context":"{ctx}"
    }};
</script>
<script src="https://{host}.{region}.token.awswaf.com/{host}/{a}/{b}/challenge.js"></script>
</head><body><div id="challenge-container"></div>
<script type="text/javascript">
    AwsWafIntegration.saveReferrer();
    AwsWafIntegration.checkForceRefresh().then((forceRefresh) => {{
        if (forceRefresh) {{ AwsWafIntegration.forceRefreshToken().then(() => {{ window.location.reload(true); }}); }}
        else {{ AwsWafIntegration.getToken().then(() => {{ window.location.reload(true); }}); }}
    }});
</script>
<noscript><h1>JavaScript is disabled</h1>In order to continue, we need to verify that you're not a robot. This requires JavaScript. Enable JavaScript and then reload the page.</noscript>
</body></html>
"#,
        key = s.chars(BASE62, 120),
        iv = s.chars(BASE62, 16),
        ctx = s.chars(BASE62, 200),
        host = s.chars(b"0123456789abcdef", 12),
        region = "us-east-2",
        a = s.chars(b"0123456789abcdef", 12),
        b = s.chars(b"0123456789abcdef", 12),
    )
}

/// Amazon's 503 page, "Sorry! Something went wrong!", with its dog.
pub fn error_503(m: Marketplace) -> String {
    format!(
        r#"{auto}
<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="x-ua-compatible" content="ie=edge"><meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no"><title>Sorry! Something went wrong!</title>
<style>html,body{{padding:0;margin:0}}img{{border:0}}#a{{background:#232f3e;padding:11px 11px 11px 192px}}#b{{position:absolute;left:22px;top:12px}}#c{{position:relative;max-width:800px;padding:0 40px 0 0}}#e,#f{{height:35px;border:0;font-size:1em}}#g{{text-align:center;margin:30px 0}}#g img{{max-width:90%}}#d{{display:none}}#d[src]{{display:inline}}</style></head>
<body><a href="/ref=cs_503_logo"><img id="b" src="https://images-na.ssl-images-amazon.com/images/G/01/error/logo._TTD_.png" alt="{store}"></a>
<form id="a" accept-charset="utf-8" action="/s" method="GET" role="search"><div id="c"><input id="e" name="field-keywords" placeholder="Search"><input name="ref" type="hidden" value="cs_503_search"><input id="f" type="submit" value="Go"></div></form>
<div id="g"><div><a href="/ref=cs_503_link"><img src="https://images-na.ssl-images-amazon.com/images/G/01/error/500_503.png" alt="Sorry! Something went wrong on our end. Please go back and try again or go to Amazon's home page."></a></div>
<a href="/dogsofamazon/ref=cs_503_d" target="_blank" rel="noopener noreferrer"><img id="d" alt="Dogs of Amazon"></a><script>document.getElementById("d").src = "https://images-na.ssl-images-amazon.com/images/G/01/error/" + (Math.floor(Math.random() * 43) + 1) + "._TTD_.jpg";</script></div>
</body></html>
"#,
        auto = AUTOMATED_ACCESS,
        store = store_name(m)
    )
}

/// Amazon's 404 page: "Sorry! We couldn't find that page", with a dog.
pub fn not_found(m: Marketplace) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="x-ua-compatible" content="ie=edge"><meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no"><title>{store} Page Not Found</title>
<style>html,body{{padding:0;margin:0}}img{{border:0}}#a{{background:#232f3e;padding:11px 11px 11px 192px}}#b{{position:absolute;left:22px;top:12px}}#g{{text-align:center;margin:30px 0}}#g img{{max-width:90%}}#d{{display:none}}#d[src]{{display:inline}}</style></head>
<body><a href="/ref=cs_404_logo"><img id="b" src="https://images-na.ssl-images-amazon.com/images/G/01/error/logo._TTD_.png" alt="{store}"></a>
<form id="a" accept-charset="utf-8" action="/s" method="GET" role="search"><div id="c"><input id="e" name="field-keywords" placeholder="Search"><input name="ref" type="hidden" value="cs_404_search"><input id="f" type="submit" value="Go"></div></form>
<div id="g"><div><a href="/ref=cs_404_link"><img src="https://images-na.ssl-images-amazon.com/images/G/01/error/title._TTD_.png" alt="Sorry! We couldn't find that page. Try searching or go to Amazon's home page."></a></div>
<a href="/dogsofamazon/ref=cs_404_d" target="_blank" rel="noopener noreferrer"><img id="d" alt="Dogs of Amazon"></a><script>document.getElementById("d").src = "https://images-na.ssl-images-amazon.com/images/G/01/error/" + (Math.floor(Math.random() * 43) + 1) + "._TTD_.jpg";</script></div>
</body></html>
"#,
        store = store_name(m)
    )
}

/// The placeholder shelf Amazon serves for a delisted product: a 200 page under the
/// product's URL with no product, only "similar items". Markers: `#gallery-shelf` and
/// `data-page-type="GalleryShelf"`, no `#productTitle`, no buy box.
pub fn gallery(m: Marketplace, asin: &str, language: &str) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\" class=\"a-no-js\"><head><meta charset=\"utf-8\"><title>{}</title><link rel=\"canonical\" href=\"https://{}/dp/{asin}\"/></head><body class=\"a-m-{} gallery\" data-page-type=\"GalleryShelf\"><div id=\"a-page\">",
        html_lang(language),
        store_name(m),
        m.host(),
        m.domain().replace('.', "_"),
    );
    nav(&mut out, m, language, "");
    out.push_str("<div id=\"gallery-shelf\" class=\"a-section a-spacing-large\"><h1 class=\"a-size-large\">Explore similar items</h1><div class=\"a-carousel-container\"><ol class=\"a-carousel\" role=\"list\">");
    for i in 0..12 {
        let other = derived_asin(&["shelf", m.domain(), asin, &i.to_string()]);
        let t = crate::truth::product_truth(m, &other, language);
        let _ = write!(
            out,
            "<li class=\"a-carousel-card\" role=\"listitem\"><div class=\"gallery-shelf-card\" data-asin=\"{other}\"><a class=\"a-link-normal\" href=\"/dp/{other}\"><img alt=\"{t}\" src=\"{img}\"/><span class=\"a-size-base\">{t}</span></a></div></li>",
            t = esc(&t.title),
            img = esc(&t.images[0]),
        );
    }
    out.push_str("</ol></div></div>");
    footer(&mut out, m);
    out.push_str("</div></body></html>\n");
    out
}

/// A product page in a layout no extractor knows: the product is there, but none of the
/// usual ids (`#productTitle`, `#corePrice...`, `#availability`, `input#ASIN`).
pub fn unknown_product(t: &ProductTruth) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}: {}</title><link rel=\"canonical\" href=\"{}\"/></head><body class=\"pdp-next\"><div id=\"a-page\">",
        html_lang(&t.language),
        store_name(t.marketplace),
        esc(&t.title),
        esc(&t.url)
    );
    nav(&mut out, t.marketplace, &t.language, "");
    let _ = write!(
        out,
        "<main class=\"pdp-next-root\" data-sku=\"{asin}\"><section class=\"pdp-next-hero\"><h1 class=\"pdp-next-name\">{title}</h1><div class=\"pdp-next-maker\">{brand}</div><div class=\"pdp-next-cost\" data-amount=\"{amount}\">{price}</div><ul class=\"pdp-next-points\">",
        asin = t.asin,
        title = esc(&t.title),
        brand = esc(&t.brand),
        amount = t.price.map(|p| p.to_string()).unwrap_or_default(),
        price = esc(t.price_text.as_deref().unwrap_or("")),
    );
    for b in &t.bullets {
        let _ = write!(out, "<li>{}</li>", esc(b));
    }
    out.push_str("</ul></section></main>");
    footer(&mut out, t.marketplace);
    out.push_str("</div></body></html>\n");
    out
}

/// A search page whose results come in a layout no extractor knows.
pub fn unknown_search(m: Marketplace, query: &str, language: &str) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(out, "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} : {}</title></head><body><div id=\"a-page\">", html_lang(language), store_name(m), esc(query));
    nav(&mut out, m, language, query);
    out.push_str("<div class=\"search-next-grid\">");
    for i in 0..16 {
        let asin = derived_asin(&["unknown-search", m.domain(), query, &i.to_string()]);
        let t = crate::truth::product_truth(m, &asin, language);
        let _ = write!(out, "<article class=\"search-next-tile\" data-sku=\"{asin}\"><h3>{}</h3><b>{}</b></article>", esc(&t.title), esc(t.price_text.as_deref().unwrap_or("")));
    }
    out.push_str("</div>");
    footer(&mut out, m);
    out.push_str("</div></body></html>\n");
    out
}

/// The small body Amazon sends with a 301.
pub fn moved(location: &str) -> String {
    format!("<html><head><title>301 Moved Permanently</title></head><body><h1>Moved Permanently</h1><p>The document has moved <a href=\"{}\">here</a>.</p></body></html>\n", esc(location))
}
