import assert from "node:assert/strict";
import { createServer, IncomingHttpHeaders, Server as HttpServer } from "node:http";
import { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { AsaClient, AsaError, Batch, verifyWebhookSignature } from "../src";
import { Server, startServer } from "./harness";

let server: Server;
const REQUEST_ID = /^req_[0-9a-f]{12}$/;

before(async () => {
  server = await startServer();
});
after(() => server?.stop());

function client(apiKey: string): { asa: AsaClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const asa = new AsaClient({ baseUrl: server.baseUrl, apiKey, sleep: async (ms) => { sleeps.push(ms); } });
  return { asa, sleeps };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the batch is complete or failed (bounded: a stuck batch fails the test). */
async function finished(asa: AsaClient, id: string): Promise<Batch> {
  for (let i = 0; i < 600; i++) {
    const b = await asa.getBatch(id);
    if (b.status === "complete" || b.status === "failed") return b;
    await pause(100);
  }
  assert.fail(`batch ${id} did not finish`);
}

async function refused(call: Promise<unknown>): Promise<AsaError> {
  const err = await call.then(() => assert.fail("expected an error"), (e: unknown) => e);
  assert.ok(err instanceof AsaError, String(err));
  assert.equal(err.attempts.length, 1);
  assert.equal(err.stop, "not_retryable");
  assert.match(err.requestId ?? "", REQUEST_ID);
  return err;
}

test("a sandbox batch: created, replayed by its idempotency key, polled to the end, listed", async () => {
  const { asa, sleeps } = client(server.sandboxKey());
  const request = {
    endpoint: "amazon.product" as const,
    items: [{ query: "B000LQXC2Q" }, { query: "B000LQXC2R", domain: "de" as const }, { query: "B0NOTFND01" }],
  };
  const created = await asa.createBatch(request, { idempotencyKey: "node-batch-1" });
  assert.equal(created.meta.status, 201);
  assert.match(created.id, /^bat_[0-9a-f]{16}$/);
  assert.equal(created.status, "pending");
  assert.equal(created.endpoint, "amazon.product");
  assert.equal(created.total_count, 3);
  assert.equal(created.processed_count, 0);
  assert.match(created.webhook_signature_secret ?? "", /^whsec_/);
  assert.ok(created.poll_url?.endsWith(`/api/v1/amazon/batch/${created.id}`), created.poll_url);
  assert.equal(created.webhook_url, null);
  assert.equal(created.webhook_delivery_status, null);
  assert.equal(created.completed_at, null);
  assert.equal(created.request_id, created.meta.requestId);

  const again = await asa.create_batch(request, { idempotencyKey: "node-batch-1" });
  assert.equal(again.meta.status, 201);
  assert.equal(again.id, created.id);
  assert.equal(again.webhook_signature_secret, created.webhook_signature_secret);

  const done = await finished(asa, created.id);
  assert.equal(done.status, "complete", JSON.stringify(done));
  assert.deepEqual([done.processed_count, done.success_count, done.failure_count], [3, 2, 1]);
  assert.equal(done.credits_charged, 0);
  assert.ok(done.started_at && done.completed_at);
  assert.equal(done.webhook_signature_secret, undefined);
  assert.equal(done.results_next_offset, undefined);
  const results = done.results ?? [];
  assert.deepEqual(results.map((r) => r.index), [0, 1, 2]);
  assert.deepEqual(results.map((r) => [r.status, r.http_status]), [["ok", 200], ["ok", 200], ["error", 404]]);
  for (const r of results) assert.match(r.request_id ?? "", REQUEST_ID);
  assert.equal((results[0].data as { asin: string }).asin, "B000LQXC2Q");
  assert.equal(results[0].error, null);
  assert.deepEqual(results[1].input, { query: "B000LQXC2R", domain: "de" });
  assert.equal((results[1].data as { marketplace: string }).marketplace, "de");
  assert.equal(results[2].data, null);
  assert.equal(results[2].error?.error, "product_not_found");
  assert.equal(results[2].credits_charged, 0);

  const list = await asa.listBatches({ limit: 5 });
  assert.deepEqual(list.batches.map((b) => b.id), [created.id]);
  assert.equal(list.batches[0].status, "complete");
  assert.equal(list.batches[0].results, undefined);
  assert.deepEqual(sleeps, []);
});

test("a bad item, a bad webhook_url, an unknown id: typed errors, never retried", async () => {
  const { asa, sleeps } = client(server.sandboxKey());
  const bad = await refused(asa.createBatch({ endpoint: "amazon.search", items: [{ query: "usb c" }, { query: "usb", pages: 11 }] }));
  assert.equal(bad.code, "invalid_params");
  assert.equal(bad.status, 400);
  assert.match(bad.message, /^items\[1\]/);
  const hook = await refused(asa.createBatch({ endpoint: "amazon.product", items: [{ query: "B000LQXC2Q" }], webhook_url: "ftp://127.0.0.1/hook" }));
  assert.equal(hook.code, "invalid_params");
  assert.match(hook.message, /webhook_url/);
  const missing = await refused(asa.getBatch("bat_0000000000000000"));
  assert.equal(missing.code, "not_found");
  assert.equal(missing.status, 404);
  // The key is checked first.
  const unknown = await refused(client("asa_live_" + "1".repeat(32)).asa.listBatches());
  assert.equal(unknown.code, "unauthorized");
  assert.deepEqual(sleeps, []);
});

interface Delivery { headers: IncomingHttpHeaders; body: Buffer }

/** An http receiver on loopback that records each POST and answers 200. */
async function receiver(): Promise<{ url: string; got: Delivery[]; http: HttpServer }> {
  const got: Delivery[] = [];
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/asa`, got, http };
}

test("batch.completed reaches a local receiver, signed: verifyWebhookSignature accepts it, not a tampered body", async () => {
  const hook = await receiver();
  try {
    const { asa } = client(server.sandboxKey());
    const created = await asa.createBatch({ endpoint: "amazon.product", items: [{ query: "B000LQXC2Q" }, { query: "B0NOTFND01" }], webhook_url: hook.url });
    const secret = created.webhook_signature_secret!;
    assert.equal(created.webhook_url, hook.url);
    assert.equal(created.webhook_delivery_status, "pending");
    await finished(asa, created.id);
    let b = await asa.getBatch(created.id);
    for (let i = 0; i < 600 && b.webhook_delivery_status === "pending"; i++) {
      await pause(100);
      b = await asa.getBatch(created.id);
    }
    assert.equal(b.webhook_delivery_status, "delivered", JSON.stringify(b));
    assert.equal(b.webhook_attempts, 1);
    assert.equal(b.webhook_last_error, null);
    assert.equal(hook.got.length, 1);
    const { headers, body } = hook.got[0];
    assert.equal(headers["x-asa-event"], "batch.completed");
    assert.equal(headers["x-asa-batch-id"], created.id);
    const signature = headers["x-asa-signature"] as string;
    assert.equal(verifyWebhookSignature(secret, body, signature), true);
    assert.equal(verifyWebhookSignature(secret, body.toString("utf8"), signature), true);
    const tampered = Buffer.from(body.toString("utf8").replace("\"complete\"", "\"failed\""));
    assert.notDeepEqual(tampered, body);
    assert.equal(verifyWebhookSignature(secret, tampered, signature), false);
    assert.equal(verifyWebhookSignature("whsec_" + "x".repeat(32), body, signature), false);
    const event = JSON.parse(body.toString("utf8")) as Batch;
    assert.equal(event.event, "batch.completed");
    assert.equal(event.id, created.id);
    assert.equal(event.webhook_signature_secret, undefined);
    assert.deepEqual(event.results?.map((r) => r.status), ["ok", "error"]);
  } finally {
    await new Promise((r) => hook.http.close(r));
  }
});
