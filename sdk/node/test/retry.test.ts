import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AsaClient, AsaError, AttemptEvent, ClientOptions, defaultSleep } from "../src";
import { Server, startServer } from "./harness";

let server: Server;
let key: string;

before(async () => {
  server = await startServer();
  key = server.key("vibe", 1000).key;
});
after(() => server?.stop());

/** A client whose waits are recorded, and shortened `shrink` times (never skipped). */
function client(options: ClientOptions = {}, shrink = 1000) {
  const sleeps: number[] = [];
  const events: AttemptEvent[] = [];
  const asa = new AsaClient({
    baseUrl: server.baseUrl, apiKey: key,
    sleep: (ms, signal) => { sleeps.push(ms); return defaultSleep(ms / shrink, signal); },
    onAttempt: (e) => events.push(e),
    ...options,
  });
  return { asa, sleeps, events };
}

async function failure(p: Promise<unknown>): Promise<AsaError> {
  const err = await p.then(() => assert.fail("expected an error"), (e: unknown) => e);
  assert.ok(err instanceof AsaError, String(err));
  return err;
}

test("429 rate_limited is retried after Retry-After (free plan, 15 at once, real time)", async () => {
  const free = server.key("free", 1000).key;
  const { asa, sleeps, events } = client({ apiKey: free, retry: { maxAttempts: 10 } }, 1);
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 15 }, () => asa.product({ query: "B000LQXC2Q" })));
  assert.equal(results.length, 15);
  for (const r of results) assert.equal(r.asin, "B000LQXC2Q");
  const retries = events.filter((e) => e.next.kind === "retry");
  assert.ok(retries.length > 0, "some of 15 requests at once exceed a burst of 10");
  for (const e of retries) {
    assert.equal(e.attempt.code, "rate_limited");
    assert.equal(e.attempt.status, 429);
    const ra = e.attempt.retryAfterMs;
    assert.ok(ra !== null && ra >= 1000, `Retry-After on a 429: ${ra}`);
    const delay = (e.next as { delayMs: number }).delayMs;
    assert.ok(delay >= ra && delay <= ra + 1000, `${delay} within [${ra}, ${ra + 1000}]`);
  }
  assert.equal(sleeps.length, retries.length);
  const retried = results.filter((r) => r.meta.attempts.length > 1);
  assert.ok(retried.length > 0);
  for (const r of retried) {
    const ids = r.meta.attempts.map((a) => a.requestId);
    assert.equal(new Set(ids).size, ids.length, "every attempt has its own request id");
    assert.equal(r.meta.attempts[0].code, "rate_limited");
  }
  assert.ok(Date.now() - started >= Math.min(...sleeps), "the waits were real");
});

test("422 blocked_by_amazon is retried after 60-90 s (shortened), every request id kept", async () => {
  const { asa, sleeps } = client({ retry: { maxAttempts: 3 } });
  const err = await failure(asa.product({ query: "B0CAPTCHA1" }));
  assert.equal(err.code, "blocked_by_amazon");
  assert.equal(err.status, 422);
  assert.equal(err.retryable, true);
  assert.equal(err.stop, "attempts_exhausted");
  assert.equal(err.requestIds.length, 3);
  assert.equal(new Set(err.requestIds).size, 3);
  assert.equal(err.requestId, err.requestIds[2]);
  assert.equal(sleeps.length, 2);
  for (const ms of sleeps) assert.ok(ms >= 60000 && ms <= 90000, String(ms));
  // The server advises its own wait, a floor the client kept.
  for (const a of err.attempts) assert.equal(a.retryAfterMs, 60000);
});

test("max delay: a 60 s class is not retried when maxDelayMs is 10 s", async () => {
  const { asa, sleeps } = client({ retry: { maxDelayMs: 10000 } });
  const err = await failure(asa.product({ query: "B0CAPTCHA1" }));
  assert.equal(err.stop, "delay_too_long");
  assert.equal(err.attempts.length, 1);
  assert.deepEqual(sleeps, []);
});

test("retries off: one attempt, stop retries_off", async () => {
  const { asa, sleeps } = client({ retry: { enabled: false } });
  const err = await failure(asa.product({ query: "B0CAPTCHA1" }));
  assert.equal(err.code, "blocked_by_amazon");
  assert.equal(err.stop, "retries_off");
  assert.deepEqual(sleeps, []);
});

test("deadline: a wait that does not fit is not started", async () => {
  const { asa, sleeps } = client();
  const err = await failure(asa.product({ query: "B0CAPTCHA1" }, { deadlineMs: 20000 }));
  assert.equal(err.code, "blocked_by_amazon");
  assert.equal(err.stop, "deadline");
  assert.equal(err.attempts.length, 1);
  assert.deepEqual(sleeps, []);
});

test("deadline: an attempt in flight at the deadline is cut", async () => {
  const { asa } = client({ retry: { deadlineMs: 400 } });
  const started = Date.now();
  const err = await failure(asa.product({ query: "B0SLOW0150" }));
  const took = Date.now() - started;
  assert.equal(err.code, "deadline");
  assert.equal(err.stop, "deadline");
  assert.equal(err.status, null);
  assert.ok(took >= 350 && took < 1400, `cut after ${took} ms`);
  // Without the deadline the same product arrives.
  const p = await asa.product({ query: "B0SLOW0150" }, { deadlineMs: 10000 });
  assert.equal(p.asin, "B0SLOW0150");
});

test("AbortSignal cancels an attempt in flight and a retry wait", async () => {
  const { asa } = client();
  const inFlight = asa.product({ query: "B0SLOW0150" }, { signal: AbortSignal.timeout(100) });
  await assert.rejects(inFlight, (e: Error) => e.name === "TimeoutError");
  const real = new AsaClient({ baseUrl: server.baseUrl, apiKey: key });
  const ctl = new AbortController();
  const started = Date.now();
  const waiting = real.product({ query: "B0CAPTCHA1" }, { signal: ctl.signal });
  setTimeout(() => ctl.abort(), 300);
  await assert.rejects(waiting, (e: Error) => e.name === "AbortError");
  assert.ok(Date.now() - started < 5000, "the 60 s wait was cut");
});

test("408 upstream_timeout is retried after 2-3 s (shortened)", async () => {
  const { asa, sleeps, events } = client({ retry: { maxAttempts: 2 } });
  const err = await failure(asa.product({ query: "B0SLOW0400" }));
  assert.equal(err.code, "upstream_timeout");
  assert.equal(err.status, 408);
  assert.equal(err.stop, "attempts_exhausted");
  assert.equal(err.requestIds.length, 2);
  assert.equal(sleeps.length, 1);
  const ra = events[0].attempt.retryAfterMs ?? 0;
  const floor = Math.max(2000, ra);
  assert.ok(sleeps[0] >= floor && sleeps[0] <= floor + 1000, String(sleeps[0]));
});

test("no answer at all: transport errors back off exponentially", async () => {
  const { asa, sleeps } = client({ baseUrl: "http://127.0.0.1:9", retry: { maxAttempts: 3 } });
  const err = await failure(asa.account());
  assert.equal(err.code, "transport");
  assert.equal(err.status, null);
  assert.equal(err.stop, "attempts_exhausted");
  assert.deepEqual(err.requestIds, []);
  assert.equal(sleeps.length, 2);
  assert.ok(sleeps[0] >= 0 && sleeps[0] <= 1000 && sleeps[1] >= 0 && sleeps[1] <= 2000, String(sleeps));
});

test("timeoutMs cuts one attempt; the call retries it as a transport failure", async () => {
  const { asa, sleeps } = client({ timeoutMs: 300, retry: { maxAttempts: 2 } });
  const err = await failure(asa.product({ query: "B0SLOW0150" }));
  assert.equal(err.code, "timeout");
  assert.equal(err.stop, "attempts_exhausted");
  assert.deepEqual(err.attempts.map((a) => a.code), ["timeout", "timeout"]);
  assert.equal(sleeps.length, 1);
  assert.ok(sleeps[0] >= 0 && sleeps[0] <= 1000, String(sleeps[0]));
});

test("the server's own retries show in meta (B0FLAKY2AB: captcha twice, then OK)", async () => {
  const { asa } = client();
  const p = await asa.product({ query: "B0FLAKY2AB" });
  assert.equal(p.asin, "B0FLAKY2AB");
  assert.equal(p.meta.upstreamAttempts, 3);
  assert.equal(p.meta.attempts.length, 1);
});
