export { AsaClient, defaultSleep } from "./client";
export type { AttemptEvent, CallOptions, ClientOptions } from "./client";
export { AsaError } from "./errors";
export type { Attempt, ErrorEnvelope, Stop } from "./errors";
export { CATALOG, DEFAULT_POLICY, bounds, codeRetryable, decide, parseRetryAfter } from "./retry";
export type { Answer, Decision, DelayBounds, Progress, RetryPolicy } from "./retry";
export { verifyWebhookSignature } from "./webhook";
export type * from "./types";

/** The name of the public API's official SDKs. */
export { verifyWebhookSignature as verify_webhook_signature } from "./webhook";
