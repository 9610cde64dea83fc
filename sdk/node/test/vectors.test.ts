import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { Answer, CATALOG, DEFAULT_POLICY, RetryPolicy, codeRetryable, decide, parseRetryAfter } from "../src";

interface Vector {
  name: string;
  response: { status: number; headers: Record<string, string>; body: unknown } | null;
  transport_error?: boolean;
  attempt: number;
  same_code_before: number;
  policy?: Record<string, unknown>;
  expect: { retry: true; delay_min_ms: number; delay_max_ms: number } | { retry: false; stop: string };
}

const FILE = path.resolve(__dirname, "..", "..", "..", "retry-vectors.json");
const doc = JSON.parse(readFileSync(FILE, "utf8")) as { version: number; default_policy: Record<string, unknown>; vectors: Vector[] };

function policyOf(p: Record<string, unknown>): RetryPolicy & { remaining: number | null } {
  return {
    enabled: p.enabled as boolean,
    maxAttempts: p.max_attempts as number,
    deadlineMs: null,
    maxDelayMs: (p.max_delay_ms as number | null) ?? null,
    transportBackoffBaseMs: p.transport_backoff_base_ms as number,
    transportBackoffCapMs: p.transport_backoff_cap_ms as number,
    remaining: (p.deadline_remaining_ms as number | null) ?? null,
  };
}

function answerOf(v: Vector): Answer {
  if (v.transport_error || v.response === null) return { kind: "transport" };
  const { status, headers, body } = v.response;
  const raHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === "retry-after")?.[1] ?? null;
  const retryAfterMs = parseRetryAfter(raHeader);
  if (body && typeof body === "object" && typeof (body as { error?: unknown }).error === "string") {
    const env = body as { error: string; retryable?: boolean };
    return { kind: "envelope", code: env.error, retryable: env.retryable ?? codeRetryable(env.error, status), retryAfterMs };
  }
  return { kind: "bare", status, retryAfterMs };
}

test("the vector file is the version this SDK reads and has vectors", () => {
  assert.equal(doc.version, 1);
  assert.ok(doc.vectors.length > 50);
  const p = policyOf(doc.default_policy);
  assert.deepEqual(
    { ...DEFAULT_POLICY },
    { enabled: p.enabled, maxAttempts: p.maxAttempts, deadlineMs: null, maxDelayMs: p.maxDelayMs,
      transportBackoffBaseMs: p.transportBackoffBaseMs, transportBackoffCapMs: p.transportBackoffCapMs },
  );
});

for (const v of doc.vectors) {
  test(`vector ${v.name}`, () => {
    const { remaining, ...policy } = policyOf({ ...doc.default_policy, ...v.policy });
    const progress = { attempt: v.attempt, sameCodeBefore: v.same_code_before, remainingMs: remaining };
    const answer = answerOf(v);
    for (const unit of [0, 0.5, 0.999999, 1]) {
      const d = decide(policy, answer, progress, unit);
      if (v.expect.retry) {
        assert.equal(d.retry, true, `unit ${unit}: ${JSON.stringify(d)}`);
        if (d.retry) {
          assert.ok(d.delayMs >= v.expect.delay_min_ms && d.delayMs <= v.expect.delay_max_ms,
            `unit ${unit}: ${d.delayMs} not in [${v.expect.delay_min_ms}, ${v.expect.delay_max_ms}]`);
          if (unit === 0) assert.equal(d.delayMs, v.expect.delay_min_ms);
          // Full jitter: without a deadline to clip it, the top of the range is reachable.
          if (unit === 1 && remaining === null) assert.equal(d.delayMs, v.expect.delay_max_ms);
        }
      } else {
        assert.deepEqual(d, { retry: false, stop: v.expect.stop }, `unit ${unit}`);
      }
    }
  });
}

test("the vectors cover every code of this SDK's catalog", () => {
  const codes = new Set(doc.vectors.map((v) => (v.response?.body as { error?: string } | undefined)?.error));
  for (const code of Object.keys(CATALOG)) assert.ok(codes.has(code), code);
});

test("Retry-After reads integer seconds and HTTP dates", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter(" 7 ", now), 7000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});
