//! The dashboard over real HTTP: sign-in and its cookie, CSRF, keys (create, rotate with
//! and without grace, revoke), the request log and traces, batches, the playground, and
//! that no account ever reaches another's data; the operator's pages on their own listener.

use crate::helpers::{SimApp, TestApp};
use asa_model::KeyKind;
use reqwest::header::{HeaderMap, ORIGIN, SET_COOKIE};
use std::time::Duration;

/// A simulator with 100 KB pages and a roomy upstream budget: these tests are about the
/// pages, not the fetch, and must not time out on a loaded machine.
async fn small_pages() -> SimApp {
    let sim = asa_sim::SimConfig {
        page_bytes: 100_000,
        ..asa_sim::SimConfig::default()
    };
    SimApp::spawn_custom(sim, |c| {
        c.upstream.timeout = Duration::from_secs(30);
        c.upstream.attempt_timeout = Duration::from_secs(15);
    })
    .await
}

/// A browser: keeps cookies, never follows redirects (tests look at them).
struct Browser {
    client: reqwest::Client,
    base: String,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token the page's forms carry.
    fn csrf(&self) -> String {
        let at = self
            .html
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {}", self.html));
        let rest = &self.html[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// The new key shown once on a keys page.
    fn new_key(&self) -> String {
        let at = self
            .html
            .find("id=\"new-key-value\" readonly value=\"")
            .unwrap_or_else(|| panic!("no new key in {}", self.html));
        let rest = &self.html[at + "id=\"new-key-value\" readonly value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    async fn page(&self, rb: reqwest::RequestBuilder) -> Page {
        let res = rb.send().await.unwrap();
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            html: res.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        self.page(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.page(
            self.client
                .post(format!("{}{path}", self.base))
                .header(ORIGIN, &self.base)
                .form(form),
        )
        .await
    }

    /// Signs in with `key` and lands on the overview.
    async fn sign_in(&self, key: &str) -> Page {
        let res = self.post("/dashboard/login", &[("key", key)]).await;
        assert_eq!(res.status, 303, "{}", res.html);
        assert_eq!(res.location(), "/dashboard");
        let overview = self.get("/dashboard").await;
        assert_eq!(overview.status, 200, "{}", overview.html);
        overview
    }
}

#[tokio::test]
async fn sign_in_sets_a_private_cookie_and_never_the_key() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 1234, KeyKind::Live).await;
    let b = Browser::new(&app.base);

    let first = b.get("/dashboard").await;
    assert_eq!(first.status, 303);
    assert!(first.location().starts_with("/dashboard/login"));
    let form = b.get("/dashboard/login").await;
    assert_eq!(form.status, 200);
    assert!(form.html.contains("type=\"password\""));
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert_eq!(form.headers["cache-control"], "no-store");

    for (bad, why) in [
        ("nope", "not an API key"),
        (
            "asa_live_0000000000000000000000000000000a",
            "Unknown API key",
        ),
    ] {
        let res = b.post("/dashboard/login", &[("key", bad)]).await;
        assert_eq!(res.status, 401);
        assert!(res.html.contains(why), "{}", res.html);
        assert!(res.headers.get(SET_COOKIE).is_none());
    }

    let res = b.post("/dashboard/login", &[("key", &h.key)]).await;
    assert_eq!(res.status, 303);
    let cookie = res.headers[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("asa_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(
        !cookie.contains(&h.key[9..]),
        "the key never reaches the browser"
    );

    let overview = b.get("/dashboard").await;
    assert_eq!(overview.status, 200);
    assert!(
        overview.html.contains("data-testid=\"balance\">1,234<"),
        "{}",
        overview.html
    );
    assert!(
        !overview.html.contains(&h.key),
        "the key is not on the page"
    );

    // Behind an https proxy the cookie is Secure (another browser: this one keeps its own).
    let other = Browser::new(&app.base);
    let res = other
        .page(
            other
                .client
                .post(format!("{}/dashboard/login", app.base))
                .header("x-forwarded-proto", "https")
                .form(&[("key", &h.key)]),
        )
        .await;
    assert!(res.headers[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("; Secure"));

    // Signing out ends the session on the server, not only in the browser.
    let token = cookie
        .trim_start_matches("asa_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = overview.csrf();
    let out = b.post("/dashboard/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(app.store.session(&token).await.unwrap().is_none());
    assert_eq!(b.get("/dashboard").await.status, 303);
}

#[tokio::test]
async fn forms_need_the_sessions_token_and_our_origin() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let b = Browser::new(&app.base);
    b.sign_in(&h.key).await;
    let before = app.store.keys(&h.account_id.clone()).await.unwrap().len();
    for csrf in ["", "0000"] {
        let res = b
            .post("/dashboard/keys", &[("csrf", csrf), ("kind", "live")])
            .await;
        assert_eq!(res.status, 403, "{}", res.html);
    }
    let res = b
        .post(
            &format!("/dashboard/keys/{}/revoke", h.key_id),
            &[("csrf", "x")],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(
        app.store.keys(&h.account_id.clone()).await.unwrap().len(),
        before
    );
    let cross_site = b
        .page(
            b.client
                .post(format!("{}/dashboard/login", app.base))
                .header(ORIGIN, "https://evil.example")
                .form(&[("key", &h.key)]),
        )
        .await;
    assert_eq!(cross_site.status, 403);
    assert!(cross_site.headers.get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn keys_are_created_rotated_and_revoked_and_shown_once() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let b = Browser::new(&app.base);
    let overview = b.sign_in(&h.key).await;
    let csrf = overview.csrf();

    let created = b
        .post("/dashboard/keys", &[("csrf", &csrf), ("kind", "live")])
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    let new_key = created.new_key();
    assert!(new_key.starts_with("asa_live_"), "{new_key}");
    let list = b.get("/dashboard/keys").await;
    assert!(!list.html.contains(&new_key), "shown only once");
    assert!(
        list.html.contains(&new_key[9..21]),
        "listed by short prefix"
    );
    assert_eq!(app.get_as(&new_key, "/api/v1/account").await.status, 200);

    // Rotating another key with a grace period: both work until it ends.
    let rec = app
        .store
        .keys(&h.account_id.clone())
        .await
        .unwrap()
        .into_iter()
        .find(|k| new_key[9..].starts_with(&k.short_prefix))
        .unwrap();
    let graced = b
        .post(
            &format!("/dashboard/keys/{}/rotate", rec.id),
            &[("csrf", &csrf), ("grace_minutes", "30")],
        )
        .await;
    assert_eq!(graced.status, 200, "{}", graced.html);
    let successor = graced.new_key();
    assert_eq!(app.get_as(&new_key, "/api/v1/account").await.status, 200);
    assert_eq!(app.get_as(&successor, "/api/v1/account").await.status, 200);
    assert!(b.get("/dashboard/keys").await.html.contains("grace period"));
    let bad = b
        .post(
            &format!("/dashboard/keys/{}/rotate", rec.id),
            &[("csrf", &csrf), ("grace_minutes", "-1")],
        )
        .await;
    assert_eq!(bad.status, 400);

    // Rotating the key this session signed in with: the old key is refused at once and the
    // session follows the new one.
    let rotated = b
        .post(
            &format!("/dashboard/keys/{}/rotate", h.key_id),
            &[("csrf", &csrf), ("grace_minutes", "0")],
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.html);
    let fresh = rotated.new_key();
    app.get_as(&h.key, "/api/v1/account")
        .await
        .assert_envelope("revoked");
    assert_eq!(app.get_as(&fresh, "/api/v1/account").await.status, 200);
    assert_eq!(
        b.get("/dashboard/keys").await.status,
        200,
        "still signed in"
    );

    // Revoking the successor of the graced key from the list.
    let succ = app
        .store
        .keys(&h.account_id.clone())
        .await
        .unwrap()
        .into_iter()
        .find(|k| successor[9..].starts_with(&k.short_prefix))
        .unwrap();
    let revoked = b
        .post(
            &format!("/dashboard/keys/{}/revoke", succ.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert!(revoked.html.contains("revoked"));
    app.get_as(&successor, "/api/v1/account")
        .await
        .assert_envelope("revoked");

    // Revoking the session's own key signs the browser out.
    let session_key = app.store.keys(&h.account_id.clone()).await.unwrap();
    let own = session_key
        .iter()
        .find(|k| fresh[9..].starts_with(&k.short_prefix))
        .unwrap();
    let gone = b
        .post(
            &format!("/dashboard/keys/{}/revoke", own.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.status, 303);
    assert_eq!(gone.location(), "/dashboard/login?why=revoked");
    assert_eq!(b.get("/dashboard").await.status, 303);
}

#[tokio::test]
async fn a_session_ends_when_its_key_is_revoked_elsewhere() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let b = Browser::new(&app.base);
    b.sign_in(&h.key).await;
    app.store.revoke_key(&h.key_id.clone()).await.unwrap();
    let res = b.get("/dashboard/requests").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/dashboard/login?why=revoked");
}

#[tokio::test]
async fn the_balance_log_and_trace_follow_a_billed_request() {
    let sim = small_pages().await;
    let app = &sim.app;
    let h = app.account("free", 100, KeyKind::Live).await;
    let b = Browser::new(&app.base);
    let overview = b.sign_in(&h.key).await;
    assert!(overview.html.contains("data-testid=\"balance\">100<"));

    let ok = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B000LQXC2Q&domain=de")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let failed = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0CAPTCHA3")
        .await;
    failed.assert_envelope("blocked_by_amazon");
    let failed_id = failed.body["request_id"].as_str().unwrap().to_string();

    let overview = b.get("/dashboard").await;
    assert!(
        overview.html.contains("data-testid=\"balance\">95<"),
        "{}",
        overview.html
    );
    assert!(overview.html.contains("blocked_by_amazon"));
    assert!(overview.html.contains("data-testid=\"usage-chart\""));

    let log = b.get("/dashboard/requests").await;
    assert!(log.html.contains(ok.body["request_id"].as_str().unwrap()));
    assert!(log.html.contains(&failed_id));
    let errors = b.get("/dashboard/requests?outcome=error").await;
    assert!(errors.html.contains(&failed_id));
    assert!(!errors
        .html
        .contains(ok.body["request_id"].as_str().unwrap()));
    let by_market = b.get("/dashboard/requests?domain=de").await;
    assert!(!by_market.html.contains(&failed_id));
    let by_text = b.get("/dashboard/requests?q=b0captcha3").await;
    assert!(by_text.html.contains(&failed_id));

    let trace = b.get(&format!("/dashboard/requests/{failed_id}")).await;
    assert_eq!(trace.status, 200);
    assert!(trace.html.contains("Why it failed"), "{}", trace.html);
    assert!(trace.html.contains("captcha"), "each attempt's outcome");
    assert!(trace.html.contains("/docs/guides/errors#blocked_by_amazon"));
}

#[tokio::test]
async fn the_playground_runs_as_the_session_and_shows_the_call() {
    let app = TestApp::spawn_with(|c| c.sandbox.enabled = true).await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let b = Browser::new(&app.base);
    let overview = b.sign_in(&h.key).await;
    let csrf = overview.csrf();
    let form = b.get("/dashboard/playground").await;
    assert_eq!(form.status, 200);
    let res = b
        .post(
            "/dashboard/playground",
            &[
                ("csrf", &csrf),
                ("endpoint", "product"),
                ("query", "B000LQXC2Q"),
                ("domain", "co.uk"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.html);
    assert!(
        res.html
            .contains("data-testid=\"playground-status\"><span class=\"badge ok\">200<"),
        "{}",
        res.html
    );
    assert!(res
        .html
        .contains("&quot;asin&quot;: &quot;B000LQXC2Q&quot;"));
    assert!(res.html.contains("asa-cost"));
    assert!(res
        .html
        .contains("asa.product(&quot;B000LQXC2Q&quot;, domain=&quot;co.uk&quot;)"));
    let at = res.html.find("/dashboard/requests/req_").unwrap();
    let id = &res.html[at + "/dashboard/requests/".len()..at + "/dashboard/requests/".len() + 16];
    let trace = b.get(&format!("/dashboard/requests/{id}")).await;
    assert_eq!(
        trace.status, 200,
        "the playground's request is traced like any other"
    );
    assert!(trace.html.contains("B000LQXC2Q"));

    let bad = b
        .post(
            "/dashboard/playground",
            &[
                ("csrf", &csrf),
                ("endpoint", "search"),
                ("query", ""),
                ("pages", "99"),
            ],
        )
        .await;
    assert!(bad.html.contains("invalid_params"), "{}", bad.html);
    let forged = b
        .post(
            "/dashboard/playground",
            &[("endpoint", "product"), ("query", "B000LQXC2Q")],
        )
        .await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn no_account_sees_another_accounts_data() {
    let sim = small_pages().await;
    let app = &sim.app;
    let mine = app.account("free", 50, KeyKind::Live).await;
    let theirs = app.account("free", 98765, KeyKind::Live).await;
    let their_request = app
        .get_as(&theirs.key, "/api/v1/amazon/product?query=B0CAPTCHA4")
        .await;
    let their_id = their_request.body["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let batch = app
        .send(
            app.client
                .post(format!("{}/api/v1/amazon/batch", app.base))
                .bearer_auth(&theirs.key)
                .json(&serde_json::json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}]})),
        )
        .await;
    assert_eq!(batch.status, 201, "{}", batch.text);
    let their_batch = batch.body["id"].as_str().unwrap().to_string();

    let b = Browser::new(&app.base);
    let overview = b.sign_in(&mine.key).await;
    let csrf = overview.csrf();
    assert!(!overview.html.contains("98,765"));
    assert!(!b.get("/dashboard/requests").await.html.contains(&their_id));
    assert_eq!(
        b.get(&format!("/dashboard/requests/{their_id}"))
            .await
            .status,
        404
    );
    assert!(!b
        .get("/dashboard/batches")
        .await
        .html
        .contains(&their_batch));
    assert_eq!(
        b.get(&format!("/dashboard/batches/{their_batch}"))
            .await
            .status,
        404
    );
    assert!(!b
        .get("/dashboard/keys")
        .await
        .html
        .contains(&theirs.key[9..21]));
    for action in ["rotate", "revoke"] {
        let res = b
            .post(
                &format!("/dashboard/keys/{}/{action}", theirs.key_id),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(res.status, 404, "{action}");
    }
    assert_eq!(app.get_as(&theirs.key, "/api/v1/account").await.status, 200);
    // A filter naming their key shows nothing of theirs either.
    let filtered = b
        .get(&format!("/dashboard/requests?key={}", &theirs.key[9..21]))
        .await;
    assert!(!filtered.html.contains(&their_id));
}

#[tokio::test]
async fn the_operator_pages_live_on_the_admin_listener_behind_the_token() {
    let plain = TestApp::spawn().await;
    assert!(plain.admin_base.is_none(), "no token, no admin listener");
    assert_eq!(asa_server::Config::default().admin.listen, "127.0.0.1:8091");

    let app = TestApp::spawn_with(|c| {
        c.admin.token = "op-secret-token".into();
        c.admin.listen = "127.0.0.1:0".into();
        c.proxies.insert(
            "DE".into(),
            vec!["http://exit-user:exit-password@127.0.0.1:9".into()],
        );
    })
    .await;
    let h = app.account("pro", 4321, KeyKind::Live).await;
    app.get_as(&h.key, "/api/v1/amazon/product?query=bad").await;
    // Not on the API listener, even with an operator cookie.
    assert_eq!(app.get("/operator").await.status, 404);

    let admin = app.admin_base.clone().unwrap();
    assert!(admin.starts_with("http://127.0.0.1:"));
    let b = Browser::new(&admin);
    assert_eq!(b.get("/operator").await.status, 303);
    assert_eq!(
        b.get("/dashboard").await.status,
        404,
        "only operator pages here"
    );
    let wrong = b
        .post("/operator/login", &[("key", "op-secret-tokem")])
        .await;
    assert_eq!(wrong.status, 401);
    let ok = b
        .post("/operator/login", &[("key", "op-secret-token")])
        .await;
    assert_eq!(ok.status, 303);
    let cookie = ok.headers[SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("Path=/operator") && cookie.contains("HttpOnly"));
    let page = b.get("/operator").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains(h.account_id.as_str()));
    assert!(page.html.contains("4,321"));
    assert!(page.html.contains("invalid_params"), "errors by code");
    assert!(
        page.html.contains("127.0.0.1:9"),
        "the exit's health is listed"
    );
    assert!(
        !page.html.contains("exit-password") && !page.html.contains("exit-user"),
        "never an exit's credentials"
    );

    // An operator session opens no account page, and an account session no operator page.
    let acct = Browser::new(&app.base);
    acct.sign_in(&h.key).await;
    let token = app
        .store
        .create_session(
            Some(&h.account_id.clone()),
            Some(&h.key_id.clone()),
            Duration::from_secs(60),
        )
        .await
        .unwrap()
        .1;
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{admin}/operator"))
        .header("cookie", format!("asa_operator={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}
