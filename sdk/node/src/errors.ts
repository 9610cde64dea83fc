/** Why a call stopped retrying. */
export type Stop =
  | "not_retryable"
  | "attempts_exhausted"
  | "deadline"
  | "delay_too_long"
  | "retries_off";

/** One HTTP attempt of a call. */
export interface Attempt {
  number: number;
  /** The envelope code, `http_<status>` for a bare answer, `transport`,
   * `timeout` (the per-attempt `timeoutMs`) or `deadline`. */
  code: string | null;
  status: number | null;
  requestId: string | null;
  retryAfterMs: number | null;
  elapsedMs: number;
}

/** The error envelope every non-2xx answer carries. */
export interface ErrorEnvelope {
  error: string;
  message: string;
  docs_url?: string;
  request_id?: string;
  retryable?: boolean;
}

export interface AsaErrorInit {
  code: string;
  status: number | null;
  message: string;
  retryable: boolean;
  docsUrl: string | null;
  stop: Stop;
  attempts: Attempt[];
  cause?: unknown;
}

/**
 * A failed call: an API error envelope (code from the catalog), a bare non-2xx answer
 * (`http_<status>`), no answer at all (`transport`) or the overall deadline (`deadline`).
 */
export class AsaError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly retryable: boolean;
  readonly docsUrl: string | null;
  readonly stop: Stop;
  readonly attempts: Attempt[];

  constructor(init: AsaErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AsaError";
    this.code = init.code;
    this.status = init.status;
    this.retryable = init.retryable;
    this.docsUrl = init.docsUrl;
    this.stop = init.stop;
    this.attempts = init.attempts;
  }

  /** The request id of the last attempt that got one. */
  get requestId(): string | null {
    const ids = this.requestIds;
    return ids.length > 0 ? ids[ids.length - 1] : null;
  }

  /** The request id of every attempt, oldest first, for support and `trace()`. */
  get requestIds(): string[] {
    return this.attempts.flatMap((a) => (a.requestId ? [a.requestId] : []));
  }
}
