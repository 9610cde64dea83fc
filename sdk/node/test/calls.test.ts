import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { AsaClient, AsaError } from "../src";
import { Server, startServer } from "./harness";

let server: Server;
let key: string;
const REQUEST_ID = /^req_[0-9a-f]{12}$/;

before(async () => {
  server = await startServer();
  key = server.key("vibe", 1000).key;
});
after(() => server?.stop());

function client(apiKey = key): { asa: AsaClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const asa = new AsaClient({
    baseUrl: server.baseUrl, apiKey,
    sleep: async (ms) => { sleeps.push(ms); },
  });
  return { asa, sleeps };
}

/** Runs `call`, expects a typed, non-retried AsaError, and returns it. */
async function permanent(call: (c: AsaClient) => Promise<unknown>, code: string, status: number, apiKey?: string): Promise<AsaError> {
  const { asa, sleeps } = client(apiKey);
  const err = await call(asa).then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AsaError, String(err));
  assert.equal(err.code, code);
  assert.equal(err.status, status);
  assert.equal(err.retryable, false);
  assert.equal(err.stop, "not_retryable");
  assert.ok(err.message.length > 0 && err.message !== code, err.message);
  assert.match(err.docsUrl ?? "", new RegExp(`/docs/guides/errors#${code}$`));
  assert.match(err.requestId ?? "", REQUEST_ID);
  assert.deepEqual(err.requestIds, [err.requestId]);
  assert.equal(err.attempts.length, 1);
  assert.deepEqual(sleeps, []);
  return err;
}

test("product 200: typed fields and the Asa-* headers", async () => {
  const { asa } = client();
  const p = await asa.product({ query: "b000lqxc2q", add_html: true });
  assert.equal(p.asin, "B000LQXC2Q");
  assert.equal(typeof p.title, "string");
  assert.equal(typeof p.price, "number");
  assert.equal(p.marketplace, "com");
  assert.ok(Array.isArray(p.images) && p.images.length > 0);
  assert.equal(typeof p.html, "string");
  assert.match(p.request_id, REQUEST_ID);
  assert.equal(p.meta.status, 200);
  assert.equal(p.meta.requestId, p.request_id);
  assert.equal(p.meta.cost, 5);
  assert.equal(p.meta.upstreamAttempts, 1);
  assert.equal(p.meta.sourceStatus, 200);
  assert.match(p.meta.resolvedUrl ?? "", /\/dp\/B000LQXC2Q/);
  assert.ok(p.meta.extractorVersion);
  assert.match(p.meta.concurrency ?? "", /^\d+\/\d+$/);
  assert.match(p.meta.rps ?? "", /^[\d.]+\/[\d.]+$/);
  assert.equal(p.meta.attempts.length, 1);
  assert.equal(Object.keys(JSON.parse(JSON.stringify(p))).includes("meta"), false);
});

test("search 200, and a genuine zero-result search", async () => {
  const { asa } = client();
  const s = await asa.search({ query: "usb c cable", sort_by: "price_asc", start_page: 1, pages: 2 });
  assert.equal(s.no_results, false);
  assert.equal(s.sort_by, "price_asc");
  assert.equal(s.pages, 2);
  assert.ok(s.products.length > 0);
  assert.equal(typeof s.products[0].asin, "string");
  assert.deepEqual([...new Set(s.products.map((x) => x.page))].sort(), [1, 2]);
  assert.equal(s.meta.cost, 10);
  const empty = await asa.search({ query: "sim-empty" });
  assert.equal(empty.no_results, true);
  assert.deepEqual(empty.products, []);
});

test("account() reads plan, limits and the balance the calls above spent", async () => {
  const { account, key: k } = server.key("vibe", 100);
  const { asa } = client(k);
  await asa.product({ query: "B000LQXC2Q" });
  const a = await asa.account();
  assert.equal(a.account_id, account);
  assert.equal(a.plan, "vibe");
  assert.equal(a.limits.rps, 10);
  assert.equal(a.credits.balance, 95);
  assert.match(a.request_id, REQUEST_ID);
});

test("trace(request_id) round trip, for a success and for a failure", async () => {
  const { asa } = client();
  const p = await asa.product({ query: "B000LQXC2Q", domain: "de" });
  const t = await asa.trace(p.meta.requestId);
  assert.equal(t.request_id, p.meta.requestId);
  assert.equal(t.endpoint, "amazon.product");
  assert.equal(t.status, 200);
  assert.equal(t.credits_charged, 5);
  assert.equal(t.params.domain, "de");
  const err = await permanent((c) => c.product({ query: "B0NOTFND01" }), "product_not_found", 404);
  const ft = await asa.trace(err.requestId!);
  assert.equal(ft.error_code, "product_not_found");
  assert.equal(ft.credits_charged, 0);
});

test("400 invalid_params names the parameter", async () => {
  const e = await permanent((c) => c.search({ query: "usb", sort_by: "cheapest" as never }), "invalid_params", 400);
  assert.match(e.message, /sort_by/);
  await permanent((c) => c.product({ query: "B000LQXC2Q", domain: "xx" }), "invalid_params", 400);
});

test("401 unauthorized for an unknown key, 401 revoked for a revoked one", async () => {
  await permanent((c) => c.product({ query: "B000LQXC2Q" }), "unauthorized", 401, "asa_live_" + "0".repeat(32));
  const k = server.key("vibe", 100);
  assert.ok(k.keyId);
  execFileSync(server.bin, ["admin", "key", "revoke", k.keyId!], { env: server.env });
  await permanent((c) => c.product({ query: "B000LQXC2Q" }), "revoked", 401, k.key);
});

test("402 insufficient_credits on a 0-credit account", async () => {
  await permanent((c) => c.product({ query: "B000LQXC2Q" }), "insufficient_credits", 402, server.key("vibe", 0).key);
});

test("403 forbidden_region: US exit for amazon.de on the free plan", async () => {
  await permanent((c) => c.product({ query: "B000LQXC2Q", country: "US", domain: "de" }), "forbidden_region", 403, server.key("free", 100).key);
});

test("404 product_not_found, 404 not_found", async () => {
  await permanent((c) => c.product({ query: "B0NOTFND01" }), "product_not_found", 404);
  await permanent((c) => c.trace("req_000000000000"), "not_found", 404);
});

test("501 not_implemented for render_js", async () => {
  await permanent((c) => c.product({ query: "B000LQXC2Q", render_js: true }), "not_implemented", 501);
});

test("502 asin_mismatch and generic_gallery_page are never retried", async () => {
  await permanent((c) => c.product({ query: "B0REDIRCT1" }), "asin_mismatch", 502);
  await permanent((c) => c.product({ query: "B0GALLERY1" }), "generic_gallery_page", 502);
});
