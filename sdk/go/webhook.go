package asa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrInvalidSignature is returned by VerifyWebhookSignature for a missing, malformed or
// wrong X-ASA-Signature.
var ErrInvalidSignature = errors.New("asa: invalid webhook signature")

// SignWebhook returns the X-ASA-Signature value for a raw body: "sha256=" and the hex
// HMAC-SHA256 of the body keyed with the whole whsec_... secret.
func SignWebhook(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhookSignature checks a batch.completed webhook's X-ASA-Signature header against
// the raw body, in constant time. Verify the raw bytes before parsing them.
func VerifyWebhookSignature(secret string, body []byte, header string) error {
	h := strings.TrimSpace(header)
	if !strings.HasPrefix(h, "sha256=") {
		return ErrInvalidSignature
	}
	got, err := hex.DecodeString(strings.TrimPrefix(h, "sha256="))
	if err != nil || len(got) != sha256.Size {
		return ErrInvalidSignature
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrInvalidSignature
	}
	return nil
}
