import { randomUUID } from "node:crypto";
import { AsaError, Attempt, ErrorEnvelope, Stop } from "./errors";
import { Answer, DEFAULT_POLICY, RetryPolicy, codeRetryable, decide, parseRetryAfter } from "./retry";
import type {
  Account, Batch, BatchList, BatchRequest, Product, ProductParams, ResponseMeta,
  SearchParams, SearchResult, Trace, WithMeta,
} from "./types";

/** Told about every attempt and the decision after it. */
export interface AttemptEvent {
  endpoint: string;
  attempt: Attempt;
  next: { kind: "done" } | { kind: "retry"; delayMs: number } | { kind: "stop"; stop: Stop };
}

export interface ClientOptions {
  /** Defaults to `ASA_API_KEY`. */
  apiKey?: string;
  /** Defaults to `ASA_BASE_URL`, then `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** Per-attempt timeout in ms. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Waits between attempts (injectable for tests); resolves early on abort. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source, uniform in [0, 1). */
  random?: () => number;
  onAttempt?: (event: AttemptEvent) => void;
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's deadline for this call. */
  deadlineMs?: number;
  maxAttempts?: number;
  /** Batch creation only; one is made up when absent, so retries are safe. */
  idempotencyKey?: string;
}

interface Request {
  endpoint: string;
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  idempotencyKey?: string;
}

type Raw =
  | { kind: "answer"; status: number; headers: Headers; text: string }
  | { kind: "transport"; error: unknown; timedOut: boolean }
  | { kind: "deadline" };

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function headerNumber(h: Headers, name: string): number | null {
  const v = h.get(name);
  if (v === null || v.trim() === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function parseEnvelope(text: string): ErrorEnvelope | null {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && typeof (v as ErrorEnvelope).error === "string") {
      return v as ErrorEnvelope;
    }
  } catch {
    // not JSON: a bare answer
  }
  return null;
}

/** The asa API client: promises, AbortSignal, retries by error code. */
export class AsaClient {
  readonly baseUrl: string;
  readonly policy: RetryPolicy;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly onAttempt: ((e: AttemptEvent) => void) | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    this.apiKey = options.apiKey ?? process.env.ASA_API_KEY;
    this.baseUrl = (options.baseUrl ?? process.env.ASA_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.policy = { ...DEFAULT_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.onAttempt = options.onAttempt;
    this.fetchImpl = options.fetch ?? fetch;
  }

  product(params: ProductParams, options?: CallOptions): Promise<WithMeta<Product>> {
    return this.execute({ endpoint: "product", method: "GET", path: "/api/v1/amazon/product", query: params }, options);
  }

  search(params: SearchParams, options?: CallOptions): Promise<WithMeta<SearchResult>> {
    return this.execute({ endpoint: "search", method: "GET", path: "/api/v1/amazon/search", query: params }, options);
  }

  createBatch(request: BatchRequest, options?: CallOptions): Promise<WithMeta<Batch>> {
    return this.execute(
      {
        endpoint: "create_batch", method: "POST", path: "/api/v1/amazon/batch", body: request,
        idempotencyKey: options?.idempotencyKey ?? randomUUID(),
      },
      options,
    );
  }

  getBatch(id: string, options?: CallOptions): Promise<WithMeta<Batch>> {
    return this.execute({ endpoint: "get_batch", method: "GET", path: `/api/v1/amazon/batch/${encodeURIComponent(id)}` }, options);
  }

  listBatches(params: { limit?: number } = {}, options?: CallOptions): Promise<WithMeta<BatchList>> {
    return this.execute({ endpoint: "list_batches", method: "GET", path: "/api/v1/amazon/batch", query: params }, options);
  }

  account(options?: CallOptions): Promise<WithMeta<Account>> {
    return this.execute({ endpoint: "account", method: "GET", path: "/api/v1/account" }, options);
  }

  trace(requestId: string, options?: CallOptions): Promise<WithMeta<Trace>> {
    return this.execute({ endpoint: "trace", method: "GET", path: `/api/v1/requests/${encodeURIComponent(requestId)}` }, options);
  }

  /** Snake-case names of the public API's official SDKs. */
  create_batch = this.createBatch;
  get_batch = this.getBatch;
  list_batches = this.listBatches;

  private url(req: Request): string {
    const u = new URL(this.baseUrl + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  private async execute<T>(req: Request, options: CallOptions = {}): Promise<WithMeta<T>> {
    if (!this.apiKey) throw new TypeError("no API key: pass apiKey or set ASA_API_KEY");
    const policy: RetryPolicy = {
      ...this.policy,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    };
    const url = this.url(req);
    const deadlineAt = policy.deadlineMs === null ? null : Date.now() + policy.deadlineMs;
    const attempts: Attempt[] = [];
    for (;;) {
      const number = attempts.length + 1;
      const sent = Date.now();
      const raw = await this.attempt(req, url, deadlineAt, options.signal);
      const attempt: Attempt = {
        number, code: null, status: null, requestId: null, retryAfterMs: null, elapsedMs: Date.now() - sent,
      };
      let answer: Answer;
      let envelope: ErrorEnvelope | null = null;
      let cause: unknown;
      if (raw.kind === "deadline") {
        attempt.code = "deadline";
        attempts.push(attempt);
        this.notify(req, attempt, { kind: "stop", stop: "deadline" });
        throw new AsaError({
          code: "deadline", status: null, message: `deadline of ${policy.deadlineMs} ms reached`,
          retryable: false, docsUrl: null, stop: "deadline", attempts,
        });
      } else if (raw.kind === "transport") {
        attempt.code = raw.timedOut ? "timeout" : "transport";
        cause = raw.error;
        answer = { kind: "transport" };
      } else {
        attempt.status = raw.status;
        attempt.requestId = raw.headers.get("x-request-id") || null;
        attempt.retryAfterMs = parseRetryAfter(raw.headers.get("retry-after"));
        if (raw.status >= 200 && raw.status < 300) {
          attempts.push(attempt);
          this.notify(req, attempt, { kind: "done" });
          return this.success<T>(raw.status, raw.headers, raw.text, attempts);
        }
        envelope = parseEnvelope(raw.text);
        if (envelope) {
          attempt.requestId ??= envelope.request_id ?? null;
          attempt.code = envelope.error;
          answer = {
            kind: "envelope", code: envelope.error, retryAfterMs: attempt.retryAfterMs,
            retryable: envelope.retryable ?? codeRetryable(envelope.error, raw.status),
          };
        } else {
          attempt.code = `http_${raw.status}`;
          answer = { kind: "bare", status: raw.status, retryAfterMs: attempt.retryAfterMs };
        }
      }
      const sameCodeBefore = attempts.filter((a) => a.code === attempt.code).length;
      const remainingMs = deadlineAt === null ? null : Math.max(0, deadlineAt - Date.now());
      const decision = decide(policy, answer, { attempt: number, sameCodeBefore, remainingMs }, this.random());
      attempts.push(attempt);
      if (!decision.retry) {
        this.notify(req, attempt, { kind: "stop", stop: decision.stop });
        throw this.failure(answer, envelope, raw, decision.stop, attempts, cause);
      }
      this.notify(req, attempt, { kind: "retry", delayMs: decision.delayMs });
      await this.sleep(decision.delayMs, options.signal);
    }
  }

  private async attempt(req: Request, url: string, deadlineAt: number | null, signal?: AbortSignal): Promise<Raw> {
    signal?.throwIfAborted();
    const signals: AbortSignal[] = [];
    if (signal) signals.push(signal);
    const timeout = this.timeoutMs === undefined ? null : AbortSignal.timeout(this.timeoutMs);
    if (timeout) signals.push(timeout);
    const deadline = deadlineAt === null ? null : AbortSignal.timeout(Math.max(0, deadlineAt - Date.now()));
    if (deadline) signals.push(deadline);
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: "application/json" };
    if (req.body !== undefined) headers["content-type"] = "application/json";
    if (req.idempotencyKey) headers["idempotency-key"] = req.idempotencyKey;
    try {
      const res = await this.fetchImpl(url, {
        method: req.method, headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      });
      const text = await res.text();
      return { kind: "answer", status: res.status, headers: res.headers, text };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (deadline?.aborted) return { kind: "deadline" };
      return { kind: "transport", error, timedOut: timeout?.aborted ?? false };
    }
  }

  private success<T>(status: number, headers: Headers, text: string, attempts: Attempt[]): WithMeta<T> {
    let body: unknown;
    let cause: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      cause = error;
    }
    if (typeof body !== "object" || body === null) {
      throw new AsaError({
        code: "decode", status, message: `the ${status} answer is not a JSON object`, retryable: false,
        docsUrl: null, stop: "not_retryable", attempts, cause,
      });
    }
    const meta: ResponseMeta = {
      status,
      requestId: headers.get("x-request-id") ?? String((body as { request_id?: string }).request_id ?? ""),
      cost: headerNumber(headers, "asa-cost"),
      upstreamAttempts: headerNumber(headers, "asa-attempts"),
      sourceStatus: headerNumber(headers, "asa-source-status"),
      resolvedUrl: headers.get("asa-resolved-url"),
      extractorVersion: headers.get("asa-extractor-version"),
      concurrency: headers.get("asa-concurrency"),
      rps: headers.get("asa-rps"),
      attempts,
    };
    Object.defineProperty(body, "meta", { value: meta, enumerable: false });
    return body as WithMeta<T>;
  }

  private failure(answer: Answer, envelope: ErrorEnvelope | null, raw: Raw, stop: Stop, attempts: Attempt[], cause: unknown): AsaError {
    const status = raw.kind === "answer" ? raw.status : null;
    if (envelope) {
      return new AsaError({
        code: envelope.error, status, message: envelope.message ?? envelope.error,
        retryable: answer.kind === "envelope" && answer.retryable, docsUrl: envelope.docs_url ?? null, stop, attempts,
      });
    }
    if (answer.kind === "bare") {
      return new AsaError({
        code: `http_${answer.status}`, status, message: `HTTP ${answer.status} without an error envelope`,
        retryable: answer.status >= 502 && answer.status <= 504, docsUrl: null, stop, attempts,
      });
    }
    return new AsaError({
      code: raw.kind === "transport" && raw.timedOut ? "timeout" : "transport", status: null,
      message: `no answer from ${this.baseUrl}: ${String(cause)}`,
      retryable: true, docsUrl: null, stop, attempts, cause,
    });
  }

  private notify(req: Request, attempt: Attempt, next: AttemptEvent["next"]): void {
    this.onAttempt?.({ endpoint: req.endpoint, attempt: { ...attempt }, next });
  }
}
