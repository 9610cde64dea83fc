// Package asa is the Go client of asa, the self-hostable Amazon Scraper API.
//
//	c := asa.New(asa.WithAPIKey("asa_live_..."))
//	p, err := c.Product(ctx, asa.ProductParams{Query: "B000LQXC2Q", Domain: "de"})
//
// Every call retries by the error code as docs/API.md's retry policy says; failures are *Error.
package asa

import (
	"context"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is the local server's address.
const DefaultBaseURL = "http://127.0.0.1:8080"

// Client calls the API. It is safe for concurrent use.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
	policy  RetryPolicy
	sleep   func(context.Context, time.Duration) error
	unit    func() float64
	now     func() time.Time
	observe func(Event)
	ua      string
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the server's base URL (default ASA_BASE_URL, else DefaultBaseURL).
func WithBaseURL(u string) Option { return func(c *Client) { c.baseURL = strings.TrimRight(u, "/") } }

// WithAPIKey sets the API key (default ASA_API_KEY).
func WithAPIKey(k string) Option { return func(c *Client) { c.apiKey = k } }

// WithHTTPClient sets the HTTP client (its Timeout bounds each attempt).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each attempt.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		h := *c.http
		h.Timeout = d
		c.http = &h
	}
}

// WithRetryPolicy replaces the whole retry policy.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.policy = p } }

// WithRetryMaxAttempts sets the attempts per call, the first included.
func WithRetryMaxAttempts(n int) Option { return func(c *Client) { c.policy.MaxAttempts = n } }

// WithRetryMaxDelay refuses retries whose minimum wait is longer than d.
func WithRetryMaxDelay(d time.Duration) Option { return func(c *Client) { c.policy.MaxDelay = d } }

// WithoutRetries makes every call a single attempt.
func WithoutRetries() Option {
	return func(c *Client) { c.policy.Enabled = false; c.policy.MaxAttempts = 1 }
}

// WithDeadline sets an overall budget per call, all attempts and waits together.
func WithDeadline(d time.Duration) Option { return func(c *Client) { c.policy.Deadline = d } }

// WithRetrySleep replaces the wait between attempts (tests shorten or record waits with it).
// It must return ctx.Err() when ctx ends first.
func WithRetrySleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = f }
}

// WithRetryJitter replaces the jitter source (uniform in [0, 1)).
func WithRetryJitter(f func() float64) Option { return func(c *Client) { c.unit = f } }

// Event tells an observer about one failed attempt and the decision after it.
type Event struct {
	Attempt    int
	Status     int    // 0 when no answer arrived
	Code       string // the envelope's code, "" without one
	RequestID  string
	RetryAfter string // the Retry-After header as sent
	Decision   Decision
}

// WithObserver is told about every failed attempt and the retry decision after it.
func WithObserver(f func(Event)) Option { return func(c *Client) { c.observe = f } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// New returns a Client; options override ASA_BASE_URL and ASA_API_KEY.
func New(opts ...Option) *Client {
	var mu sync.Mutex
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	c := &Client{
		baseURL: DefaultBaseURL,
		apiKey:  os.Getenv("ASA_API_KEY"),
		http:    &http.Client{Timeout: 60 * time.Second},
		policy:  DefaultRetryPolicy(),
		sleep:   sleepCtx,
		unit: func() float64 {
			mu.Lock()
			defer mu.Unlock()
			return rng.Float64()
		},
		now: time.Now,
		ua:  "asa-go/0.1",
	}
	if u := os.Getenv("ASA_BASE_URL"); u != "" {
		c.baseURL = strings.TrimRight(u, "/")
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Product fetches one product page, extracted.
func (c *Client) Product(ctx context.Context, p ProductParams) (*Product, error) {
	var out Product
	if err := c.get(ctx, "/api/v1/amazon/product", p.values(), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Search runs a keyword search over one or more result pages.
func (c *Client) Search(ctx context.Context, p SearchParams) (*Search, error) {
	var out Search
	if err := c.get(ctx, "/api/v1/amazon/search", p.values(), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateBatch creates an asynchronous batch; the answer holds the webhook secret (shown once).
// The POST is retried only with an Idempotency-Key: one is made up when the request has none.
func (c *Client) CreateBatch(ctx context.Context, b BatchRequest) (*Batch, error) {
	key := b.IdempotencyKey
	if key == "" {
		key = "idem_" + strconv.FormatInt(c.now().UnixNano(), 36) + strconv.FormatUint(uint64(c.unit()*1e12), 36)
	}
	var out Batch
	if err := c.do(ctx, request{method: http.MethodPost, path: "/api/v1/amazon/batch", body: b, idempotencyKey: key}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetBatch returns a batch's status and results.
func (c *Client) GetBatch(ctx context.Context, id string) (*Batch, error) {
	var out Batch
	if err := c.get(ctx, "/api/v1/amazon/batch/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListBatches returns the account's recent batches, newest first (limit 0: server default).
func (c *Client) ListBatches(ctx context.Context, limit int) (*BatchList, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out BatchList
	if err := c.get(ctx, "/api/v1/amazon/batch", q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Account returns the plan, limits, credit balance, auto-top-up and usage.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	var out Account
	if err := c.get(ctx, "/api/v1/account", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Trace returns the stored trace of one of the account's own requests.
func (c *Client) Trace(ctx context.Context, requestID string) (*Trace, error) {
	var out Trace
	if err := c.get(ctx, "/api/v1/requests/"+url.PathEscape(requestID), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) get(ctx context.Context, path string, q url.Values, out responder) error {
	return c.do(ctx, request{method: http.MethodGet, path: path, query: q}, out)
}
