package asa_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

// checkPermanent asserts a never-retried error: typed, one attempt, envelope fields set.
func checkPermanent(t *testing.T, err error, code string, status int, rec *sleepRecorder) *asa.Error {
	t.Helper()
	e := asaError(t, err)
	if e.Code != code || e.Status != status {
		t.Fatalf("got %s/%d, want %s/%d: %v", e.Code, e.Status, code, status, e)
	}
	if e.Message == "" || e.Retryable || e.Stop != asa.StopNotRetryable || e.Attempts != 1 {
		t.Errorf("message %q retryable %v stop %q attempts %d", e.Message, e.Retryable, e.Stop, e.Attempts)
	}
	if !strings.HasPrefix(e.RequestID, "req_") || len(e.RequestIDs) != 1 || e.RequestIDs[0] != e.RequestID {
		t.Errorf("request ids %q %v", e.RequestID, e.RequestIDs)
	}
	if !strings.HasSuffix(e.DocsURL, "#"+code) {
		t.Errorf("docs_url %q", e.DocsURL)
	}
	if e.Meta == nil || e.Meta.Cost == nil || *e.Meta.Cost != 0 {
		t.Errorf("a non-2xx must cost 0: %+v", e.Meta)
	}
	if rec != nil && len(rec.waits) != 0 {
		t.Errorf("waited %v before a permanent error", rec.waits)
	}
	if !strings.Contains(e.Error(), code) || !strings.Contains(e.Error(), e.RequestID) {
		t.Errorf("Error() = %q", e.Error())
	}
	return e
}

func TestNeverRetried(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	_, freeKey := newKey(t, "free", 1000)
	_, brokeKey := newKey(t, "vibe", 0)
	ctx := context.Background()
	cases := []struct {
		name, code string
		status     int
		key        string
		call       func(c *asa.Client) error
	}{
		{"invalid_params", "invalid_params", 400, key, func(c *asa.Client) error {
			_, err := c.Search(ctx, asa.SearchParams{Query: "x", SortBy: "cheapest"})
			return err
		}},
		{"unauthorized", "unauthorized", 401, "asa_live_00000000000000000000000000000000", func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B000LQXC2Q"})
			return err
		}},
		{"insufficient_credits", "insufficient_credits", 402, brokeKey, func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B000LQXC2Q"})
			return err
		}},
		{"forbidden_region", "forbidden_region", 403, freeKey, func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B000LQXC2Q", Domain: "de", Country: "US"})
			return err
		}},
		{"product_not_found", "product_not_found", 404, key, func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B0NOTFND01"})
			return err
		}},
		{"not_implemented", "not_implemented", 501, key, func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B000LQXC2Q", Extra: map[string]string{"render_js": "true"}})
			return err
		}},
		{"asin_mismatch", "asin_mismatch", 502, key, func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B0REDIRCT1"})
			return err
		}},
		{"generic_gallery_page", "generic_gallery_page", 502, key, func(c *asa.Client) error {
			_, err := c.Product(ctx, asa.ProductParams{Query: "B0GALLERY1"})
			return err
		}},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			rec := &sleepRecorder{scale: 1000}
			e := checkPermanent(t, tc.call(client(tc.key, asa.WithRetrySleep(rec.sleep))), tc.code, tc.status, rec)
			if tc.code == "invalid_params" && !strings.Contains(e.Message, "sort_by") {
				t.Errorf("400 message should name the parameter: %q", e.Message)
			}
		})
	}
}

func TestRevokedKey(t *testing.T) {
	acc, _ := newKey(t, "vibe", 1000)
	out := srv.admin(t, "key", "create", "--account", acc, "--json")
	var k struct{ ID, Key string }
	if err := jsonUnmarshal(out, &k); err != nil || k.ID == "" {
		t.Fatalf("key create: %v %s", err, out)
	}
	srv.admin(t, "key", "revoke", k.ID)
	_, err := client(k.Key).Account(context.Background())
	checkPermanent(t, err, "revoked", 401, nil)
}

// TestRateLimitedIsRetried bursts a free account (burst 10) with 15 parallel calls: the
// 429s are retried after Retry-After (real time) and every call ends in a 200.
func TestRateLimitedIsRetried(t *testing.T) {
	_, key := newKey(t, "free", 1000)
	var mu sync.Mutex
	var waits []time.Duration
	var events []asa.Event
	c := client(key, asa.WithRetryMaxAttempts(6), asa.WithObserver(func(e asa.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}), asa.WithRetrySleep(func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}))
	var wg sync.WaitGroup
	errs := make([]error, 15)
	ids := make([][]string, 15)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := c.Product(context.Background(), asa.ProductParams{Query: "B000LQXC2Q"})
			errs[i] = err
			if err == nil {
				ids[i] = p.RequestIDs
			}
		}(i)
	}
	wg.Wait()
	retried := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
			continue
		}
		if len(ids[i]) > 1 {
			retried++
		}
	}
	if retried == 0 || len(waits) == 0 {
		t.Fatalf("no call was rate limited and retried (waits %v)", waits)
	}
	if len(events) != len(waits) {
		t.Fatalf("%d events, %d waits", len(events), len(waits))
	}
	for _, ev := range events {
		ra, err := strconv.Atoi(ev.RetryAfter)
		if ev.Code != "rate_limited" || ev.Status != 429 || err != nil || !ev.Decision.Retry || !strings.HasPrefix(ev.RequestID, "req_") {
			t.Fatalf("event %+v", ev)
		}
		floor := time.Duration(ra) * time.Second
		if ev.Decision.Delay < floor || ev.Decision.Delay > floor+time.Second {
			t.Errorf("429 with Retry-After %d: wait %v, want [%v, %v]", ra, ev.Decision.Delay, floor, floor+time.Second)
		}
	}
}

// TestBlockedIsRetried: a 422 is retried after at least 60 s (shortened by the injected sleep).
func TestBlockedIsRetried(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	rec := &sleepRecorder{scale: 1000}
	_, err := client(key, asa.WithRetryMaxAttempts(3), asa.WithRetrySleep(rec.sleep)).
		Product(context.Background(), asa.ProductParams{Query: "B0CAPTCHA1"})
	e := asaError(t, err)
	if e.Code != "blocked_by_amazon" || e.Status != 422 || !e.Retryable || e.Attempts != 3 || e.Stop != asa.StopAttemptsExhausted {
		t.Fatalf("%v: attempts %d stop %q", e, e.Attempts, e.Stop)
	}
	if len(e.RequestIDs) != 3 || e.RequestIDs[0] == e.RequestIDs[2] || e.RequestID != e.RequestIDs[2] {
		t.Errorf("request ids %v", e.RequestIDs)
	}
	if len(rec.waits) != 2 {
		t.Fatalf("waits %v", rec.waits)
	}
	for _, w := range rec.waits {
		if w < 60*time.Second || w > 90*time.Second {
			t.Errorf("422 wait %v outside [60 s, 90 s]", w)
		}
	}
	// The maximum wait option skips the 60 s class.
	rec2 := &sleepRecorder{scale: 1000}
	_, err = client(key, asa.WithRetryMaxDelay(10*time.Second), asa.WithRetrySleep(rec2.sleep)).
		Product(context.Background(), asa.ProductParams{Query: "B0CAPTCHA1"})
	if e := asaError(t, err); e.Stop != asa.StopDelayTooLong || e.Attempts != 1 || len(rec2.waits) != 0 {
		t.Errorf("max delay: stop %q attempts %d", e.Stop, e.Attempts)
	}
	// Retries off: one attempt, stop retries_off.
	_, err = client(key, asa.WithoutRetries()).Product(context.Background(), asa.ProductParams{Query: "B0CAPTCHA1"})
	if e := asaError(t, err); e.Stop != asa.StopRetriesOff || e.Attempts != 1 {
		t.Errorf("retries off: stop %q attempts %d", e.Stop, e.Attempts)
	}
}

// closedPort is a loopback port nothing listens on: bound by the kernel's choice, then closed.
func closedPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TestTransportErrorIsRetried: no server listening, retried with backoff, then typed error.
func TestTransportErrorIsRetried(t *testing.T) {
	port, err := closedPort()
	if err != nil {
		t.Fatal(err)
	}
	rec := &sleepRecorder{scale: 1000}
	_, err = asa.New(asa.WithBaseURL(fmt.Sprintf("http://127.0.0.1:%d", port)), asa.WithAPIKey("k"), asa.WithRetrySleep(rec.sleep)).
		Account(context.Background())
	e := asaError(t, err)
	if e.Code != "" || e.Status != 0 || e.Err == nil || e.Attempts != 4 || e.Stop != asa.StopAttemptsExhausted || len(rec.waits) != 3 {
		t.Fatalf("%v: attempts %d stop %q waits %v", e, e.Attempts, e.Stop, rec.waits)
	}
	for i, w := range rec.waits {
		if w > time.Second<<uint(i) {
			t.Errorf("wait %d: %v above %v", i, w, time.Second<<uint(i))
		}
	}
}
