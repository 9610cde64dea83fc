import assert from "node:assert/strict";
import { test } from "node:test";
import { verifyWebhookSignature, verify_webhook_signature } from "../src";

// Expected digests computed independently with Python's hmac/hashlib.
const SECRET = "whsec_test_secret_0123456789";
const BODY = '{"id":"b_1","status":"complete"}';
const GOOD = "sha256=2891d897f8a8d7ac8d9a90ca1b60345ec5b8547ae726ff63d32e3035a075dbf3";
const EMPTY_SECRET = "whsec_AbCdEf";
const EMPTY_GOOD = "sha256=824837c4a5fd3a2ad6c1f57aab89eeafccc72f88047f951627baa4c8f9155e80";
// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
const RFC4231 = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

test("a good signature verifies, from a string or the raw bytes", () => {
  assert.equal(verifyWebhookSignature(SECRET, BODY, GOOD), true);
  assert.equal(verifyWebhookSignature(SECRET, Buffer.from(BODY), GOOD), true);
  assert.equal(verifyWebhookSignature(SECRET, new Uint8Array(Buffer.from(BODY)), GOOD.toUpperCase().replace("SHA256", "sha256")), true);
  assert.equal(verify_webhook_signature(EMPTY_SECRET, "", EMPTY_GOOD), true);
  assert.equal(verifyWebhookSignature("Jefe", "what do ya want for nothing?", RFC4231), true);
});

test("a tampered body fails", () => {
  assert.equal(verifyWebhookSignature(SECRET, BODY.replace("complete", "failed"), GOOD), false);
  assert.equal(verifyWebhookSignature(SECRET, BODY + " ", GOOD), false);
});

test("a bad signature or another secret fails", () => {
  const flipped = GOOD.slice(0, -1) + (GOOD.endsWith("3") ? "4" : "3");
  assert.equal(verifyWebhookSignature(SECRET, BODY, flipped), false);
  assert.equal(verifyWebhookSignature("whsec_other", BODY, GOOD), false);
  // The key is the whole secret, prefix included.
  assert.equal(verifyWebhookSignature(SECRET.slice("whsec_".length), BODY, GOOD), false);
});

test("a malformed header fails without throwing", () => {
  for (const h of [undefined, null, "", GOOD.slice("sha256=".length), "sha1=" + GOOD.slice(7), GOOD.slice(0, -2), GOOD + "00", "sha256=zz" + GOOD.slice(9)]) {
    assert.equal(verifyWebhookSignature(SECRET, BODY, h), false, String(h));
  }
});
