package asa_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

type vectorPolicy struct {
	Enabled                *bool  `json:"enabled"`
	MaxAttempts            *int   `json:"max_attempts"`
	DeadlineRemainingMS    *int64 `json:"deadline_remaining_ms"`
	MaxDelayMS             *int64 `json:"max_delay_ms"`
	TransportBackoffBaseMS *int64 `json:"transport_backoff_base_ms"`
	TransportBackoffCapMS  *int64 `json:"transport_backoff_cap_ms"`
}

type vector struct {
	Name     string `json:"name"`
	Response *struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
	TransportError bool          `json:"transport_error"`
	Attempt        int           `json:"attempt"`
	SameCodeBefore int           `json:"same_code_before"`
	Policy         *vectorPolicy `json:"policy"`
	Expect         struct {
		Retry      bool   `json:"retry"`
		DelayMinMS int64  `json:"delay_min_ms"`
		DelayMaxMS int64  `json:"delay_max_ms"`
		Stop       string `json:"stop"`
	} `json:"expect"`
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// apply overlays the non-null fields of o onto the policy and the progress.
func (o *vectorPolicy) apply(p *asa.RetryPolicy, pr *asa.Progress) {
	if o == nil {
		return
	}
	if o.Enabled != nil {
		p.Enabled = *o.Enabled
	}
	if o.MaxAttempts != nil {
		p.MaxAttempts = *o.MaxAttempts
	}
	if o.DeadlineRemainingMS != nil {
		pr.HasDeadline, pr.Remaining = true, ms(*o.DeadlineRemainingMS)
	}
	if o.MaxDelayMS != nil {
		p.MaxDelay = ms(*o.MaxDelayMS)
	}
	if o.TransportBackoffBaseMS != nil {
		p.TransportBase = ms(*o.TransportBackoffBaseMS)
	}
	if o.TransportBackoffCapMS != nil {
		p.TransportCap = ms(*o.TransportBackoffCapMS)
	}
}

// TestRetryVectors feeds every vector of sdk/retry-vectors.json to RetryPolicy.Decide with
// the jitter at its extremes and the middle.
func TestRetryVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "retry-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Version       int          `json:"version"`
		DefaultPolicy vectorPolicy `json:"default_policy"`
		Vectors       []vector     `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file.Version != 1 || len(file.Vectors) == 0 {
		t.Fatalf("unexpected vectors file: version %d, %d vectors", file.Version, len(file.Vectors))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range file.Vectors {
		v := v
		t.Run(v.Name, func(t *testing.T) {
			policy := asa.RetryPolicy{}
			pr := asa.Progress{Attempt: v.Attempt, SameCodeBefore: v.SameCodeBefore}
			file.DefaultPolicy.apply(&policy, &pr)
			v.Policy.apply(&policy, &pr)
			ans := answerOf(t, v, now)
			for _, unit := range []float64{0, 0.5, 0.999999, 1} {
				d := policy.Decide(ans, pr, unit)
				if d.Retry != v.Expect.Retry {
					t.Fatalf("unit %v: retry=%v (stop %q), want %v", unit, d.Retry, d.Stop, v.Expect.Retry)
				}
				if !d.Retry {
					if string(d.Stop) != v.Expect.Stop {
						t.Fatalf("stop %q, want %q", d.Stop, v.Expect.Stop)
					}
					continue
				}
				if d.Delay < ms(v.Expect.DelayMinMS) || d.Delay > ms(v.Expect.DelayMaxMS) {
					t.Fatalf("unit %v: delay %v outside [%d ms, %d ms]", unit, d.Delay, v.Expect.DelayMinMS, v.Expect.DelayMaxMS)
				}
			}
		})
	}
}

// answerOf reads a vector's response the way the client reads a real answer.
func answerOf(t *testing.T, v vector, now time.Time) asa.Answer {
	if v.TransportError || v.Response == nil {
		return asa.Answer{Transport: true}
	}
	a := asa.Answer{Status: v.Response.Status}
	for k, val := range v.Response.Headers {
		if canonicalHeader(k) == "Retry-After" {
			a.RetryAfter, a.HasRetryAfter = asa.ParseRetryAfter(val, now)
		}
	}
	var env struct {
		Error     string `json:"error"`
		Retryable bool   `json:"retryable"`
	}
	if len(v.Response.Body) > 0 && v.Response.Body[0] == '{' {
		if err := json.Unmarshal(v.Response.Body, &env); err != nil {
			t.Fatal(err)
		}
		a.Code, a.Retryable = env.Error, env.Retryable
	}
	return a
}
