/** Parameters of `product()`, named as in the public API's official SDKs. */
export interface ProductParams {
  /** ASIN / ISBN-10, or a full Amazon product URL. */
  query: string;
  domain?: string;
  language?: string;
  country?: string;
  add_html?: boolean;
  /** Any other parameter, sent as is (e.g. the reserved `render_js`). */
  [extra: string]: string | number | boolean | undefined;
}

export type SortBy = "best_match" | "price_asc" | "price_desc" | "avg_customer_review" | "newest";

export interface SearchParams {
  query: string;
  domain?: string;
  language?: string;
  country?: string;
  sort_by?: SortBy;
  start_page?: number;
  pages?: number;
  add_html?: boolean;
  [extra: string]: string | number | boolean | undefined;
}

/** Headers of a successful answer, and the client's attempts. */
export interface ResponseMeta {
  status: number;
  requestId: string;
  /** `Asa-Cost`: credits charged. */
  cost: number | null;
  /** `Asa-Attempts`: upstream attempts the server made. */
  upstreamAttempts: number | null;
  sourceStatus: number | null;
  resolvedUrl: string | null;
  extractorVersion: string | null;
  concurrency: string | null;
  rps: string | null;
  /** Every HTTP attempt of this call (retries included). */
  attempts: import("./errors").Attempt[];
}

/** A body as the API sent it, plus a non-enumerable `meta`. */
export type WithMeta<T> = T & { readonly meta: ResponseMeta };

export interface Product {
  asin: string;
  parent_asin: string | null;
  url: string | null;
  title: string | null;
  brand: string | null;
  manufacturer: string | null;
  price: number | null;
  price_buybox: number | null;
  price_strikethrough: number | null;
  currency: string | null;
  price_raw: string | null;
  stock: string | null;
  is_prime: boolean | null;
  rating: number | null;
  reviews_count: number | null;
  rating_stars_distribution: unknown;
  answered_questions_count: number | null;
  images: string[];
  has_videos: boolean | null;
  bullet_points: string | null;
  description: string | null;
  product_details: Record<string, string> | null;
  product_dimensions: string | null;
  category: { ladder: { name: string; url: string | null }[]; rank?: number | null }[] | null;
  sales_rank: { category: string; rank: number }[] | null;
  buybox: { price: number | null; seller_name: string | null; seller_id: string | null; stock: string | null; returns: string | null }[] | null;
  featured_merchant: { name: string | null; seller_id: string | null; is_amazon_fulfilled: boolean | null } | null;
  variations: { asin: string; dimensions: Record<string, string>; selected: boolean }[] | null;
  delivery: unknown;
  max_quantity: number | null;
  pricing_count: number | null;
  marketplace: string | null;
  language: string | null;
  html?: string;
  request_id: string;
}

export interface SearchProduct {
  asin: string;
  title: string | null;
  url: string | null;
  image: string | null;
  price: number | null;
  price_strikethrough: number | null;
  highest_price: number | null;
  currency: string | null;
  rating: number | null;
  reviews_count: number | null;
  sales_volume: string | null;
  is_prime: boolean | null;
  is_amazons_choice: boolean | null;
  is_sponsored: boolean | null;
  best_seller: boolean | null;
  organic_position: number | null;
  sponsored_position: number | null;
  page: number;
}

export interface SearchResult {
  query: string;
  domain: string;
  sort_by: SortBy;
  start_page: number;
  pages: number;
  no_results: boolean;
  products: SearchProduct[];
  request_id: string;
}

export interface BatchRequest {
  endpoint: "amazon.product" | "amazon.search";
  items: (ProductParams | SearchParams)[];
  webhook_url?: string;
}

export type BatchStatus = "pending" | "running" | "complete" | "failed";

export interface BatchResult {
  /** The item's position in the request's `items`. */
  index: number;
  input: Record<string, unknown>;
  status: "ok" | "error";
  http_status: number | null;
  data?: unknown;
  /** The error envelope of a failed item. */
  error?: import("./errors").ErrorEnvelope | null;
  duration_ms: number | null;
  credits_charged: number;
  /** The request id of the item's run (its trace's id). */
  request_id: string | null;
  [field: string]: unknown;
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

export interface Batch {
  id: string;
  status: BatchStatus;
  endpoint?: "amazon.product" | "amazon.search";
  total_count: number;
  processed_count?: number;
  success_count?: number;
  failure_count?: number;
  credits_charged?: number;
  created_at: string;
  started_at?: string | null;
  completed_at?: string | null;
  poll_url?: string;
  webhook_url?: string | null;
  /** Null without a webhook. */
  webhook_delivery_status?: WebhookDeliveryStatus | null;
  webhook_attempts?: number;
  webhook_next_attempt_at?: string | null;
  webhook_last_error?: string | null;
  /** Shown only in the answer to `createBatch`. */
  webhook_signature_secret?: string;
  results?: BatchResult[];
  /** Present when more results follow: the offset of the next page. */
  results_next_offset?: number | null;
  /** `batch.completed` in a webhook's body. */
  event?: string;
  request_id: string;
  [field: string]: unknown;
}

export interface BatchList {
  batches: Batch[];
  request_id: string;
  [field: string]: unknown;
}

export interface Account {
  account_id: string;
  name: string | null;
  plan: string;
  limits: { concurrency: number; rps: number; burst: number; countries: string | string[] };
  credits: { balance: number; reserved: number; cost_per_page: number };
  auto_topup: unknown;
  usage: unknown;
  request_id: string;
  [field: string]: unknown;
}

export interface TraceAttempt {
  n: number;
  exit_country: string | null;
  proxy_id: string | null;
  url: string;
  status: number | null;
  bytes: number | null;
  latency_ms: number;
  outcome: string;
  [field: string]: unknown;
}

export interface Trace {
  request_id: string;
  endpoint: string;
  params: Record<string, string>;
  status: number;
  error_code: string | null;
  credits_charged: number;
  latency_ms: number;
  attempts: TraceAttempt[];
  [field: string]: unknown;
}
