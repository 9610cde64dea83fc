package asa_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

// Expected signatures were computed independently with Python's hmac module.
const (
	whSecret = "whsec_5Yb3tQmZ8pL1xR7cV2nK9wD4"
	whBody   = `{"id":"b_0123456789ab","status":"complete","total_count":2}`
	whSig    = "sha256=63d2da1e1f98493230a9817dc4c8db1cb7609a331be272cdf2655bd4c457d2b7"
)

func TestWebhookSignature(t *testing.T) {
	if got := asa.SignWebhook(whSecret, []byte(whBody)); got != whSig {
		t.Fatalf("SignWebhook = %s", got)
	}
	// RFC 4231 test case 1.
	rfc := "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
	if err := asa.VerifyWebhookSignature(strings.Repeat("\x0b", 20), []byte("Hi There"), rfc); err != nil {
		t.Fatalf("RFC 4231 case 1: %v", err)
	}
	if err := asa.VerifyWebhookSignature(whSecret, []byte(whBody), whSig); err != nil {
		t.Fatalf("good signature refused: %v", err)
	}
	if err := asa.VerifyWebhookSignature(whSecret, []byte(whBody), " "+whSig+" "); err != nil {
		t.Fatalf("surrounding spaces: %v", err)
	}
	bad := map[string]struct {
		secret, body, header string
	}{
		"tampered body":        {whSecret, strings.Replace(whBody, "2", "3", 1), whSig},
		"wrong secret":         {"whsec_other", whBody, whSig},
		"secret without whsec": {strings.TrimPrefix(whSecret, "whsec_"), whBody, whSig},
		"flipped digit":        {whSecret, whBody, whSig[:len(whSig)-1] + "8"},
		"no prefix":            {whSecret, whBody, strings.TrimPrefix(whSig, "sha256=")},
		"other algorithm":      {whSecret, whBody, strings.Replace(whSig, "sha256=", "sha1=", 1)},
		"truncated":            {whSecret, whBody, whSig[:40]},
		"not hex":              {whSecret, whBody, "sha256=" + strings.Repeat("zz", 32)},
		"empty":                {whSecret, whBody, ""},
	}
	for name, b := range bad {
		if err := asa.VerifyWebhookSignature(b.secret, []byte(b.body), b.header); !errors.Is(err, asa.ErrInvalidSignature) {
			t.Errorf("%s: got %v, want ErrInvalidSignature", name, err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"Wed, 21 Oct 2015 07:28:30 GMT": 30 * time.Second,
		"Wed, 21 Oct 2015 07:27:00 GMT": 0,
	}
	for in, want := range cases {
		if got, ok := asa.ParseRetryAfter(in, now); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "-3", "1.5"} {
		if _, ok := asa.ParseRetryAfter(in, now); ok {
			t.Errorf("%q parsed", in)
		}
	}
}

// TestRetryAfterIsAFloor: a longer Retry-After wins over the catalog's wait, and never
// makes a permanent code retryable.
func TestRetryAfterIsAFloor(t *testing.T) {
	p := asa.DefaultRetryPolicy()
	first := asa.Progress{Attempt: 1}
	d := p.Decide(asa.Answer{Code: "internal_error", Retryable: true, Status: 500, RetryAfter: 9 * time.Second, HasRetryAfter: true}, first, 0)
	if !d.Retry || d.Delay != 9*time.Second {
		t.Errorf("500 with Retry-After 9: %+v", d)
	}
	d = p.Decide(asa.Answer{Code: "forbidden_region", Status: 403, RetryAfter: time.Second, HasRetryAfter: true}, first, 0)
	if d.Retry || d.Stop != asa.StopNotRetryable {
		t.Errorf("403 with Retry-After: %+v", d)
	}
}
