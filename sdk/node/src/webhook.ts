import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Checks `X-ASA-Signature: sha256=<hex>` against the HMAC-SHA256 of the raw body, keyed
 * with the whole `whsec_...` secret. Verify the raw bytes before parsing them.
 * Compared in constant time; returns false on any malformed header.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Uint8Array,
  signatureHeader: string | null | undefined,
): boolean {
  if (!signatureHeader) return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(signatureHeader.trim());
  if (!m) return false;
  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : Buffer.from(rawBody);
  const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1], "hex"));
}
