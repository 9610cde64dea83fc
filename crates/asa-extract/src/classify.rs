//! Block pages told apart from real ones, by content (they often come with HTTP 200).

use crate::Page;

/// `Some` when the page is a captcha, an Amazon error, a 404 or a gallery shelf.
pub fn block_page(html: &[u8]) -> Option<Page> {
    let _ = html;
    None
}
