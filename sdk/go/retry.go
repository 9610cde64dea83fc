package asa

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Stop says why a client stopped retrying a call.
type Stop string

const (
	StopNotRetryable      Stop = "not_retryable"
	StopAttemptsExhausted Stop = "attempts_exhausted"
	StopDeadline          Stop = "deadline"
	StopDelayTooLong      Stop = "delay_too_long"
	StopRetriesOff        Stop = "retries_off"
)

// RetryPolicy is the retry contract of sdk/README.md. DefaultRetryPolicy is docs/API.md's policy.
type RetryPolicy struct {
	Enabled bool
	// MaxAttempts counts every attempt of a call, the first included.
	MaxAttempts int
	// Deadline is the overall budget of a call (0: none).
	Deadline time.Duration
	// MaxDelay refuses a retry whose minimum wait is longer (0: none).
	MaxDelay time.Duration
	// TransportBase and TransportCap drive the backoff for answers outside the catalog.
	TransportBase time.Duration
	TransportCap  time.Duration
}

// DefaultRetryPolicy returns docs/API.md's policy: 4 attempts, no deadline, no maximum wait.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Enabled: true, MaxAttempts: 4, TransportBase: time.Second, TransportCap: 30 * time.Second}
}

// Answer is what one failed attempt produced, as far as retrying is concerned.
type Answer struct {
	// Code and Retryable come from the error envelope; Code is "" without one.
	Code      string
	Retryable bool
	// Status is the HTTP status (0 when no answer arrived).
	Status int
	// RetryAfter is the parsed Retry-After header, if HasRetryAfter.
	RetryAfter    time.Duration
	HasRetryAfter bool
	// Transport is true when the attempt got no answer at all.
	Transport bool
}

// Progress says where a call stands when an attempt failed.
type Progress struct {
	Attempt        int // 1-based number of the attempt that just failed
	SameCodeBefore int // earlier attempts of this call that failed with the same code
	// Remaining is the time left before the deadline, if HasDeadline.
	Remaining   time.Duration
	HasDeadline bool
}

// Bounds is the inclusive range a retry's delay is drawn from.
type Bounds struct{ Min, Max time.Duration }

// Decision is what to do after a failed attempt: retry after Delay, or stop for Stop.
type Decision struct {
	Retry bool
	Delay time.Duration
	Stop  Stop
}

type advice int

const (
	adviceNever advice = iota
	adviceAfterRetryAfter
	adviceFixed
	adviceAtLeast
	adviceExponential
)

type catalogEntry struct {
	kind       advice
	delay      time.Duration // fixed delay, minimum, fallback or exponential base
	cap        time.Duration // exponential cap
	maxRetries int           // fixed class only
}

// catalog is the error catalog's retry advice (asa-model ErrorCode::retry).
var catalog = map[string]catalogEntry{
	"invalid_params":       {kind: adviceNever},
	"unauthorized":         {kind: adviceNever},
	"revoked":              {kind: adviceNever},
	"insufficient_credits": {kind: adviceNever},
	"forbidden_region":     {kind: adviceNever},
	"not_found":            {kind: adviceNever},
	"product_not_found":    {kind: adviceNever},
	"not_implemented":      {kind: adviceNever},
	"asin_mismatch":        {kind: adviceNever},
	"generic_gallery_page": {kind: adviceNever},
	"upstream_timeout":     {kind: adviceFixed, delay: 2 * time.Second, maxRetries: 3},
	"internal_error":       {kind: adviceFixed, delay: 5 * time.Second, maxRetries: 3},
	"blocked_by_amazon":    {kind: adviceAtLeast, delay: 60 * time.Second},
	"target_unreachable":   {kind: adviceAtLeast, delay: 60 * time.Second},
	"rate_limited":         {kind: adviceAfterRetryAfter, delay: time.Second},
	"capacity":             {kind: adviceAfterRetryAfter, delay: time.Second},
	"extraction_failed":    {kind: adviceExponential, delay: 2 * time.Second, cap: 30 * time.Second},
}

// IsRetryableCode reports whether the catalog retries a code (unknown codes: false).
func IsRetryableCode(code string) bool {
	e, ok := catalog[code]
	return ok && e.kind != adviceNever
}

// Bounds returns the delay bounds before the next attempt, or false when the answer must
// never be retried. Budget limits (attempts, deadline, MaxDelay) are not applied here.
func (p RetryPolicy) Bounds(a Answer, sameCodeBefore int) (Bounds, bool) {
	if a.Transport {
		return exponential(p.TransportBase, p.TransportCap, 0, false, sameCodeBefore), true
	}
	if a.Code == "" {
		if a.Status >= 502 && a.Status <= 504 {
			return exponential(p.TransportBase, p.TransportCap, a.RetryAfter, a.HasRetryAfter, sameCodeBefore), true
		}
		return Bounds{}, false
	}
	e, known := catalog[a.Code]
	if !known {
		if a.Retryable {
			return exponential(p.TransportBase, p.TransportCap, a.RetryAfter, a.HasRetryAfter, sameCodeBefore), true
		}
		return Bounds{}, false
	}
	floor := func(d time.Duration) time.Duration {
		if a.HasRetryAfter && a.RetryAfter > d {
			return a.RetryAfter
		}
		return d
	}
	switch e.kind {
	case adviceAfterRetryAfter:
		base := e.delay
		if a.HasRetryAfter {
			base = a.RetryAfter
		}
		return Bounds{base, base + time.Second}, true
	case adviceFixed, adviceAtLeast:
		min := floor(e.delay)
		return Bounds{min, min + e.delay/2}, true
	case adviceExponential:
		return exponential(e.delay, e.cap, a.RetryAfter, a.HasRetryAfter, sameCodeBefore), true
	}
	return Bounds{}, false
}

func exponential(base, cap, retryAfter time.Duration, hasRA bool, k int) Bounds {
	if k > 16 {
		k = 16
	}
	ceiling := base * time.Duration(1<<uint(k))
	if ceiling > cap {
		ceiling = cap
	}
	var min time.Duration
	if hasRA {
		min = retryAfter
	}
	if ceiling < min {
		ceiling = min
	}
	return Bounds{min, ceiling}
}

// Decide says whether to retry after a failed attempt, drawing the jitter from unit
// (uniform in [0, 1]).
func (p RetryPolicy) Decide(a Answer, pr Progress, unit float64) Decision {
	b, ok := p.Bounds(a, pr.SameCodeBefore)
	if !ok {
		return Decision{Stop: StopNotRetryable}
	}
	if !p.Enabled {
		return Decision{Stop: StopRetriesOff}
	}
	if pr.Attempt >= p.MaxAttempts || p.overCodeBudget(a, pr) {
		return Decision{Stop: StopAttemptsExhausted}
	}
	if unit < 0 {
		unit = 0
	} else if unit > 1 {
		unit = 1
	}
	delay := b.Min + time.Duration(float64(b.Max-b.Min)*unit)
	if p.MaxDelay > 0 {
		if b.Min > p.MaxDelay {
			return Decision{Stop: StopDelayTooLong}
		}
		if delay > p.MaxDelay {
			delay = p.MaxDelay
		}
	}
	if pr.HasDeadline {
		if b.Min >= pr.Remaining {
			return Decision{Stop: StopDeadline}
		}
		if delay >= pr.Remaining {
			delay = b.Min
		}
	}
	return Decision{Retry: true, Delay: delay}
}

func (p RetryPolicy) overCodeBudget(a Answer, pr Progress) bool {
	if a.Transport || a.Code == "" {
		return false
	}
	e, ok := catalog[a.Code]
	return ok && e.kind == adviceFixed && pr.SameCodeBefore >= e.maxRetries
}

// ParseRetryAfter reads a Retry-After value: integer seconds or an HTTP date relative to now.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := when.Sub(now).Truncate(time.Second)
	if d < 0 {
		d = 0
	}
	return d, true
}
