import type { Stop } from "./errors";

/** How a client retries; the defaults are docs/API.md's policy. */
export interface RetryPolicy {
  enabled: boolean;
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Overall budget of a call in ms, attempts and waits together. */
  deadlineMs: number | null;
  /** A retry that needs a longer minimum wait is not made. */
  maxDelayMs: number | null;
  /** Exponential backoff for answers outside the catalog. */
  transportBackoffBaseMs: number;
  transportBackoffCapMs: number;
}

export const DEFAULT_POLICY: Readonly<RetryPolicy> = Object.freeze({
  enabled: true,
  maxAttempts: 4,
  deadlineMs: null,
  maxDelayMs: null,
  transportBackoffBaseMs: 1000,
  transportBackoffCapMs: 30000,
});

/** What one failed attempt produced, as far as retrying is concerned. */
export type Answer =
  | { kind: "envelope"; code: string; retryable: boolean; retryAfterMs: number | null }
  | { kind: "bare"; status: number; retryAfterMs: number | null }
  | { kind: "transport" };

export interface DelayBounds {
  minMs: number;
  maxMs: number;
}

export interface Progress {
  /** The attempt that just failed, 1-based. */
  attempt: number;
  /** Earlier attempts of this call that failed with the same code. */
  sameCodeBefore: number;
  /** Time left before the deadline, if there is one. */
  remainingMs: number | null;
}

export type Decision = { retry: true; delayMs: number } | { retry: false; stop: Stop };

type Advice =
  | { kind: "never" }
  | { kind: "afterRetryAfter"; fallbackMs: number }
  | { kind: "fixed"; delayMs: number; maxRetries: number }
  | { kind: "atLeast"; minMs: number }
  | { kind: "exponential"; baseMs: number; capMs: number };

const NEVER: Advice = { kind: "never" };

/** The error catalog's retry advice, code by code (docs/API.md, sdk/README.md). */
export const CATALOG: Readonly<Record<string, Advice>> = Object.freeze({
  invalid_params: NEVER,
  unauthorized: NEVER,
  revoked: NEVER,
  insufficient_credits: NEVER,
  forbidden_region: NEVER,
  not_found: NEVER,
  product_not_found: NEVER,
  not_implemented: NEVER,
  asin_mismatch: NEVER,
  generic_gallery_page: NEVER,
  upstream_timeout: { kind: "fixed", delayMs: 2000, maxRetries: 3 },
  internal_error: { kind: "fixed", delayMs: 5000, maxRetries: 3 },
  rate_limited: { kind: "afterRetryAfter", fallbackMs: 1000 },
  capacity: { kind: "afterRetryAfter", fallbackMs: 1000 },
  blocked_by_amazon: { kind: "atLeast", minMs: 60000 },
  target_unreachable: { kind: "atLeast", minMs: 60000 },
  extraction_failed: { kind: "exponential", baseMs: 2000, capMs: 30000 },
});

function advice(code: string): Advice | undefined {
  return Object.prototype.hasOwnProperty.call(CATALOG, code) ? CATALOG[code] : undefined;
}

/** Whether the catalog retries a code; unknown codes fall back to the status. */
export function codeRetryable(code: string, status: number): boolean {
  const a = advice(code);
  return a ? a.kind !== "never" : status >= 500;
}

function exponential(baseMs: number, capMs: number, retryAfterMs: number | null, k: number): DelayBounds {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(k, 16));
  const minMs = retryAfterMs ?? 0;
  return { minMs, maxMs: Math.max(ceiling, minMs) };
}

/** Delay bounds before the next attempt, or `null` when the answer is never retried. */
export function bounds(policy: RetryPolicy, answer: Answer, sameCodeBefore: number): DelayBounds | null {
  const { transportBackoffBaseMs: base, transportBackoffCapMs: cap } = policy;
  if (answer.kind === "transport") return exponential(base, cap, null, sameCodeBefore);
  if (answer.kind === "bare") {
    return answer.status >= 502 && answer.status <= 504
      ? exponential(base, cap, answer.retryAfterMs, sameCodeBefore)
      : null;
  }
  const ra = answer.retryAfterMs;
  const floor = (d: number) => (ra === null ? d : Math.max(ra, d));
  const a = advice(answer.code);
  if (!a) return answer.retryable ? exponential(base, cap, ra, sameCodeBefore) : null;
  switch (a.kind) {
    case "never":
      return null;
    case "afterRetryAfter": {
      const b = ra ?? a.fallbackMs;
      return { minMs: b, maxMs: b + 1000 };
    }
    case "fixed": {
      const minMs = floor(a.delayMs);
      return { minMs, maxMs: minMs + a.delayMs / 2 };
    }
    case "atLeast": {
      const minMs = floor(a.minMs);
      return { minMs, maxMs: minMs + a.minMs / 2 };
    }
    case "exponential":
      return exponential(a.baseMs, a.capMs, ra, sameCodeBefore);
  }
}

function overCodeBudget(answer: Answer, sameCodeBefore: number): boolean {
  if (answer.kind !== "envelope") return false;
  const a = advice(answer.code);
  return a?.kind === "fixed" && sameCodeBefore >= a.maxRetries;
}

/** Retry or stop after a failed attempt; `unit` in [0, 1] draws the jitter. */
export function decide(policy: RetryPolicy, answer: Answer, progress: Progress, unit: number): Decision {
  const b = bounds(policy, answer, progress.sameCodeBefore);
  if (!b) return { retry: false, stop: "not_retryable" };
  if (!policy.enabled) return { retry: false, stop: "retries_off" };
  if (progress.attempt >= policy.maxAttempts || overCodeBudget(answer, progress.sameCodeBefore)) {
    return { retry: false, stop: "attempts_exhausted" };
  }
  if (policy.maxDelayMs !== null && b.minMs > policy.maxDelayMs) {
    return { retry: false, stop: "delay_too_long" };
  }
  let delayMs = b.minMs + (b.maxMs - b.minMs) * Math.min(1, Math.max(0, unit));
  if (policy.maxDelayMs !== null) delayMs = Math.min(delayMs, policy.maxDelayMs);
  const remaining = progress.remainingMs;
  if (remaining !== null) {
    if (b.minMs >= remaining) return { retry: false, stop: "deadline" };
    // Jitter above the floor never takes a retry past the deadline.
    if (delayMs >= remaining) delayMs = b.minMs;
  }
  return { retry: true, delayMs };
}

/** `Retry-After` as integer seconds or an HTTP date, in ms from `nowMs`. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const when = Date.parse(v);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.floor((when - nowMs) / 1000)) * 1000;
}
