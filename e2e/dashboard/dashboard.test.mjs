// The dashboard in a real browser: sign in with a key, watch the balance move after a
// product request, rotate a key and see the old one refused, open a failed request's
// trace, run the playground, follow a batch, stay out of another account's data, and the
// operator's view. Every page is saved as a screenshot under artifacts/.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { ADMIN_TOKEN, ARTIFACTS, loadMs, shot, startBrowser, startServer } from "./harness.mjs";

let server;
let browser;
/** Navigation times per page, written to artifacts/timings.json (figures, not assertions). */
const timings = {};

before(async () => {
  server = await startServer();
  browser = await startBrowser();
});

after(async () => {
  writeFileSync(path.join(ARTIFACTS, "timings.json"), JSON.stringify(timings, null, 2));
  console.log("page load ms:", JSON.stringify(timings));
  await browser?.close();
  await server?.stop();
});

/** A fresh browser context (its own cookies), signed in with `key`. */
async function signedIn(key, viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/dashboard`);
  assert.match(page.url(), /\/dashboard\/login/, "signed out: the sign-in page");
  await page.fill("#key", key);
  await Promise.all([page.waitForURL(`${server.baseUrl}/dashboard`), page.click("button[type=submit]")]);
  return { context, page };
}

async function visit(page, pathAndQuery, name) {
  await page.goto(`${server.baseUrl}${pathAndQuery}`);
  timings[name] = await loadMs(page);
}

test("sign in with a key and see the balance change after a product request", async () => {
  const { key } = server.live(1000);
  const { context, page } = await signedIn(key);
  timings.overview = await loadMs(page);
  assert.equal(await page.textContent("[data-testid=balance]"), "1,000");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "asa_session");
  assert.ok(session.httpOnly, "HttpOnly");
  assert.equal(session.sameSite, "Strict");
  assert.ok(!cookies.some((c) => c.value.includes(key.slice(9))), "the key is not in a cookie");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(key.slice(9)), "nor in web storage");

  const answer = await server.api(key, "/api/v1/amazon/product?query=B000LQXC2Q&domain=de");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("asa-cost"), "5");
  await page.reload();
  assert.equal(await page.textContent("[data-testid=balance]"), "995");
  assert.ok(await page.isVisible("[data-testid=usage-chart]"));
  await shot(page, "overview");
  await context.close();
});

test("the overview reads on a phone", async () => {
  const { key } = server.live(50);
  await server.api(key, "/api/v1/amazon/product?query=B0CAPTCHA1");
  const { context, page } = await signedIn(key, { width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await shot(page, "overview-phone");
  await visit(page, "/dashboard/requests", "requests-phone");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the request log is ${wide}px wider than the phone (tables scroll inside their card)`);
  await shot(page, "requests-phone");
  await context.close();
});

test("rotate a key and see the old one rejected", async () => {
  const { key } = server.live(100);
  const { context, page } = await signedIn(key);
  await visit(page, "/dashboard/keys", "keys");
  const row = page.locator(`tr[data-key="${key.slice(9, 21)}"]`);
  assert.match(await row.textContent(), /this session/);
  await Promise.all([page.waitForLoadState("load"), row.locator("button", { hasText: "Rotate" }).click()]);
  const fresh = await page.inputValue("#new-key-value");
  assert.match(fresh, /^asa_live_[A-Za-z0-9]{32}$/);
  await shot(page, "keys-rotated");

  const old = await server.api(key, "/api/v1/account");
  assert.equal(old.status, 401);
  assert.equal(old.body.error, "revoked");
  assert.equal((await server.api(fresh, "/api/v1/account")).status, 200);

  // The session followed the new key; reloading no longer shows the secret.
  await page.goto(`${server.baseUrl}/dashboard/keys`);
  assert.equal(await page.locator("#new-key-value").count(), 0, "a key is shown only once");
  assert.match(await page.locator(`tr[data-key="${fresh.slice(9, 21)}"]`).textContent(), /this session/);
  assert.match(await page.locator(`tr[data-key="${key.slice(9, 21)}"]`).textContent(), /revoked/);

  // A new sandbox key, then revoked from the list.
  await page.selectOption("#kind", "test");
  await Promise.all([page.waitForLoadState("load"), page.click("text=Create key")]);
  const sandbox = await page.inputValue("#new-key-value");
  assert.match(sandbox, /^asa_test_/);
  page.once("dialog", (d) => d.accept());
  await Promise.all([
    page.waitForLoadState("load"),
    page.locator(`tr[data-key="${sandbox.slice(9, 21)}"] button.danger`).click(),
  ]);
  assert.equal((await server.api(sandbox, "/api/v1/account")).body.error, "revoked");
  await context.close();
});

test("open a failed request's trace from the log", async () => {
  const { key } = server.live(100);
  const failed = await server.api(key, "/api/v1/amazon/product?query=B0CAPTCHA2&domain=co.uk");
  assert.equal(failed.status, 422);
  const ok = await server.api(key, "/api/v1/amazon/search?query=usb+cable");
  assert.equal(ok.status, 200);
  const { context, page } = await signedIn(key);
  await visit(page, "/dashboard/requests", "requests");
  assert.equal(await page.locator("#requests tbody tr").count(), 2);
  await page.selectOption("#outcome", "error");
  await Promise.all([page.waitForLoadState("load"), page.click("text=Filter")]);
  const rows = page.locator("#requests tbody tr");
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /B0CAPTCHA2.*co\.uk.*422.*blocked_by_amazon/s);
  await shot(page, "requests");
  await Promise.all([page.waitForURL(/\/dashboard\/requests\/req_/), rows.first().locator("a").click()]);
  timings.trace = await loadMs(page);
  assert.ok(page.url().endsWith(failed.body.request_id));
  assert.match(await page.textContent("[data-testid=trace-why]"), /blocked_by_amazon/);
  const attempts = page.locator("#attempts tbody tr");
  assert.ok((await attempts.count()) >= 1);
  assert.match(await attempts.first().textContent(), /captcha/);
  await shot(page, "trace");
  await context.close();
});

test("run the playground", async () => {
  const { key } = server.sandbox();
  const { context, page } = await signedIn(key);
  await visit(page, "/dashboard/playground", "playground");
  assert.ok(await page.isHidden("input[name=sort_by]"), "search fields hidden for a product");
  await page.check("input[name=endpoint][value=search]");
  assert.ok(await page.isVisible("input[name=sort_by]"));
  await page.check("input[name=endpoint][value=product]");
  await page.fill("input[name=query]", "B000LQXC2Q");
  await page.fill("input[name=domain]", "de");
  await Promise.all([page.waitForLoadState("load"), page.click("#playground button[type=submit]")]);
  assert.equal((await page.textContent("[data-testid=playground-status]")).trim(), "200");
  const json = await page.textContent("[data-testid=playground-json]");
  assert.equal(JSON.parse(json).asin, "B000LQXC2Q");
  assert.match(await page.textContent("#headers"), /asa-cost\s*0/, "a sandbox key is never billed");
  const snippets = await page.textContent("#snippets");
  assert.match(snippets, /curl -sS -H "Authorization: Bearer \$ASA_API_KEY"/);
  assert.match(snippets, /asa\.product\("B000LQXC2Q", domain="de"\)/);
  assert.match(snippets, /c\.Product\(ctx, asa\.ProductParams\{Query: "B000LQXC2Q", Domain: "de"\}\)/);
  assert.ok(!snippets.includes(key.slice(9)), "snippets never carry the key");
  await shot(page, "playground");
  await Promise.all([page.waitForURL(/\/dashboard\/requests\/req_/), page.click("#result a")]);
  assert.match(await page.textContent("[data-testid=trace-status]"), /200/);
  await context.close();
});

test("follow a batch to its items", async () => {
  const { key } = server.sandbox();
  const created = await server.api(key, "/api/v1/amazon/batch", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ endpoint: "amazon.product", items: [{ query: "B000LQXC2Q" }, { query: "B0NOTFND01" }] }),
  });
  assert.equal(created.status, 201);
  const id = created.body.id;
  for (let i = 0; i < 100; i++) {
    if ((await server.api(key, `/api/v1/amazon/batch/${id}`)).body.status === "complete") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const { context, page } = await signedIn(key);
  await visit(page, "/dashboard/batches", "batches");
  await Promise.all([page.waitForURL(/\/dashboard\/batches\/[^/]+$/), page.click(`a[href="/dashboard/batches/${id}"]`)]);
  timings.batch = await loadMs(page);
  assert.equal(await page.textContent("[data-testid=batch-status]"), "complete");
  const items = page.locator("#items tbody tr");
  assert.equal(await items.count(), 2);
  assert.match(await items.nth(1).textContent(), /product_not_found/);
  await shot(page, "batch");
  await context.close();
});

test("an account never sees another account's data", async () => {
  const theirs = server.live(100);
  const theirRequest = await server.api(theirs.key, "/api/v1/amazon/product?query=B0CAPTCHA3");
  const mine = server.live(100);
  const { context, page } = await signedIn(mine.key);
  await page.goto(`${server.baseUrl}/dashboard/requests/${theirRequest.body.request_id}`);
  assert.match(await page.textContent("h1"), /Not found/);
  await page.goto(`${server.baseUrl}/dashboard/requests`);
  assert.ok(!(await page.content()).includes(theirRequest.body.request_id));
  await page.goto(`${server.baseUrl}/dashboard/keys`);
  assert.ok(!(await page.content()).includes(theirs.key.slice(9, 21)));
  await context.close();
});

test("the operator's view, behind the admin token on the admin listener", async () => {
  const someone = server.live(4242, "pro");
  await server.api(someone.key, "/api/v1/amazon/product?query=B0CAPTCHA4");
  const context = await browser.newContext();
  const page = await context.newPage();
  const notHere = await page.goto(`${server.baseUrl}/operator`);
  assert.equal(notHere.status(), 404, "not on the API listener");
  await page.goto(`${server.adminUrl}/operator`);
  assert.match(page.url(), /\/operator\/login/);
  await page.fill("#key", "wrong");
  await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
  assert.match(await page.textContent("main"), /Wrong admin token/);
  await page.fill("#key", ADMIN_TOKEN);
  await Promise.all([page.waitForURL(`${server.adminUrl}/operator`), page.click("button[type=submit]")]);
  timings.operator = await loadMs(page);
  assert.match(await page.locator(`tr[data-account="${someone.account}"]`).textContent(), /4,242/);
  assert.match(await page.textContent("#errors"), /blocked_by_amazon/);
  await shot(page, "operator");
  await context.close();
});
