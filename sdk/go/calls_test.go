package asa_test

import (
	"context"
	"strings"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

func TestProduct200(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	p, err := client(key).Product(context.Background(), asa.ProductParams{Query: "b000lqxc2q"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ASIN != "B000LQXC2Q" {
		t.Errorf("asin %q", p.ASIN)
	}
	if p.Title == nil || *p.Title == "" {
		t.Error("no title")
	}
	if p.Price == nil || *p.Price <= 0 {
		t.Errorf("price %v", p.Price)
	}
	if !strings.HasPrefix(p.RequestID, "req_") || p.Meta.RequestID != p.RequestID {
		t.Errorf("request id body %q header %q", p.RequestID, p.Meta.RequestID)
	}
	if p.Meta.Cost == nil || *p.Meta.Cost != 5 {
		t.Errorf("Asa-Cost %v", p.Meta.Cost)
	}
	if p.Meta.UpstreamAttempts == nil || *p.Meta.UpstreamAttempts < 1 {
		t.Errorf("Asa-Attempts %v", p.Meta.UpstreamAttempts)
	}
	if p.Meta.SourceStatus == nil || *p.Meta.SourceStatus != 200 {
		t.Errorf("Asa-Source-Status %v", p.Meta.SourceStatus)
	}
	if p.Meta.ExtractorVersion == "" || p.Meta.Concurrency == "" || p.Meta.RPS == "" || p.Meta.ResolvedURL == "" {
		t.Errorf("Asa-* headers missing: %+v", p.Meta)
	}
	if len(p.Images) == 0 || len(p.RatingStarsDistribution) == 0 || p.FeaturedMerchant == nil {
		t.Errorf("images %d, stars %v, merchant %v", len(p.Images), p.RatingStarsDistribution, p.FeaturedMerchant)
	}
	if len(p.RequestIDs) != 1 || len(p.Raw) == 0 || p.HTML != nil {
		t.Errorf("ids %v, raw %d bytes, html %v", p.RequestIDs, len(p.Raw), p.HTML != nil)
	}
}

func TestProductAddHTMLAndDomain(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	p, err := client(key).Product(context.Background(), asa.ProductParams{Query: "B000LQXC2Q", Domain: "de", AddHTML: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.HTML == nil || !strings.Contains(*p.HTML, "<") {
		t.Error("add_html: no html")
	}
	byURL, err := client(key).Product(context.Background(), asa.ProductParams{Query: "https://www.amazon.de/dp/B000LQXC2Q"})
	if err != nil {
		t.Fatal(err)
	}
	if byURL.ASIN != "B000LQXC2Q" || byURL.Marketplace == nil || *byURL.Marketplace != *p.Marketplace {
		t.Errorf("by URL: %s %v", byURL.ASIN, byURL.Marketplace)
	}
	if p.Marketplace == nil || !strings.Contains(*p.Marketplace, "de") {
		t.Errorf("marketplace %v", p.Marketplace)
	}
}

func TestSearch200(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	c := client(key)
	s, err := c.Search(context.Background(), asa.SearchParams{Query: "usb c cable", SortBy: asa.SortPriceAsc, StartPage: 1, Pages: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Query != "usb c cable" || s.SortBy != "price_asc" || s.Pages != 2 || s.NoResults || len(s.Products) == 0 {
		t.Fatalf("search: %+v", s)
	}
	if s.Products[0].ASIN == "" || s.Products[0].Page < 1 {
		t.Errorf("first product %+v", s.Products[0])
	}
	if s.Meta.Cost == nil || *s.Meta.Cost != 10 {
		t.Errorf("two pages cost %v", s.Meta.Cost)
	}
	empty, err := c.Search(context.Background(), asa.SearchParams{Query: "sim-empty"})
	if err != nil {
		t.Fatal(err)
	}
	if !empty.NoResults || len(empty.Products) != 0 {
		t.Errorf("sim-empty: no_results %v, %d products", empty.NoResults, len(empty.Products))
	}
}

func TestAccount(t *testing.T) {
	acc, key := newKey(t, "vibe", 1000)
	a, err := client(key).Account(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.AccountID != acc || a.Plan != "vibe" || a.Credits.Balance != 1000 || a.Limits.RPS != 10 || a.Limits.Burst != 40 {
		t.Fatalf("account %+v", a)
	}
	if a.Meta.Cost == nil || *a.Meta.Cost != 0 {
		t.Errorf("account read cost %v", a.Meta.Cost)
	}
}

func TestTraceRoundTrip(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	c := client(key)
	p, err := c.Product(context.Background(), asa.ProductParams{Query: "B000LQXC2Q"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.Trace(context.Background(), p.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.RequestID != p.RequestID || tr.Status != 200 || tr.CreditsCharged != 5 || !strings.Contains(tr.Endpoint, "product") {
		t.Fatalf("trace %+v", tr)
	}
	if !strings.Contains(string(tr.Params), "B000LQXC2Q") || strings.Contains(string(tr.Raw), key) {
		t.Errorf("trace params %s (the key must never appear)", tr.Params)
	}
	// Another account cannot read it.
	_, other := newKey(t, "vibe", 1000)
	e := asaError(t, func() error { _, err := client(other).Trace(context.Background(), p.RequestID); return err }())
	if e.Status != 404 {
		t.Errorf("foreign trace: %v", e)
	}
}

// TestDeadline: a slow upstream answer is cut by the overall deadline.
func TestDeadline(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	start := time.Now()
	_, err := client(key, asa.WithDeadline(300*time.Millisecond)).Product(context.Background(), asa.ProductParams{Query: "B0SLOW0100"})
	e := asaError(t, err)
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Errorf("deadline 300ms took %v", el)
	}
	if e.Stop != asa.StopDeadline || !errorsIs(e, asa.ErrDeadline) {
		t.Errorf("stop %q err %v", e.Stop, e.Err)
	}
	// Without the deadline the same call succeeds.
	if _, err := client(key).Product(context.Background(), asa.ProductParams{Query: "B0SLOW0100"}); err != nil {
		t.Fatal(err)
	}
}

// TestDeadlineRefusesALongWait: a 422 whose 60 s wait cannot fit stops at once.
func TestDeadlineRefusesALongWait(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	rec := &sleepRecorder{scale: 1000}
	_, err := client(key, asa.WithDeadline(20*time.Second), asa.WithRetrySleep(rec.sleep)).
		Product(context.Background(), asa.ProductParams{Query: "B0CAPTCHA1"})
	e := asaError(t, err)
	if e.Code != "blocked_by_amazon" || e.Stop != asa.StopDeadline || e.Attempts != 1 || len(rec.waits) != 0 {
		t.Fatalf("%v: stop %q, attempts %d, waits %v", e, e.Stop, e.Attempts, rec.waits)
	}
}

func TestContextCancel(t *testing.T) {
	_, key := newKey(t, "vibe", 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := client(key).Product(ctx, asa.ProductParams{Query: "B0SLOW0100"})
	if !errorsIs(err, context.DeadlineExceeded) {
		t.Fatalf("want context.DeadlineExceeded, got %v", err)
	}
}
