package asa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

type request struct {
	method         string
	path           string
	query          url.Values
	body           interface{}
	idempotencyKey string
}

type envelope struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	DocsURL   string `json:"docs_url"`
	RequestID string `json:"request_id"`
	Retryable *bool  `json:"retryable"`
}

// do runs one call: attempts, retry decisions and waits, under the optional deadline.
func (c *Client) do(ctx context.Context, r request, out responder) error {
	var payload []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return &Error{Message: "encoding the request body", Err: err}
		}
		payload = b
	}
	u := c.baseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	start := c.now()
	callCtx, cancel := ctx, context.CancelFunc(func() {})
	if c.policy.Deadline > 0 {
		callCtx, cancel = context.WithDeadline(ctx, start.Add(c.policy.Deadline))
	}
	defer cancel()

	var ids []string
	seen := map[string]int{}
	for attempt := 1; ; attempt++ {
		resp, raw, err := c.attempt(callCtx, r, u, payload)
		var fail *Error
		var ans Answer
		switch {
		case err != nil:
			if cut := c.cut(ctx, callCtx, ids, attempt, nil); cut != nil {
				return cut
			}
			fail = &Error{Message: err.Error(), Err: err, Retryable: true}
			ans = Answer{Transport: true}
		default:
			m := metaFrom(resp)
			if m.RequestID != "" {
				ids = append(ids, m.RequestID)
			}
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				if err := json.Unmarshal(raw, out); err != nil {
					return &Error{Status: resp.StatusCode, Message: "decoding the answer: " + err.Error(), Err: err,
						RequestID: m.RequestID, RequestIDs: ids, Attempts: attempt, Meta: &m}
				}
				out.setResponse(json.RawMessage(raw), m, ids)
				return nil
			}
			fail, ans = failure(resp.StatusCode, raw, m, c.now())
		}
		fail.RequestIDs, fail.Attempts = ids, attempt
		key := ans.Code
		if ans.Transport {
			key = "#transport"
		} else if key == "" {
			key = "#" + strconv.Itoa(ans.Status)
		}
		pr := Progress{Attempt: attempt, SameCodeBefore: seen[key]}
		seen[key]++
		if dl, ok := callCtx.Deadline(); ok && c.policy.Deadline > 0 {
			pr.HasDeadline, pr.Remaining = true, dl.Sub(c.now())
		}
		policy := c.policy
		if r.method != http.MethodGet && r.idempotencyKey == "" {
			policy.Enabled = false
		}
		d := policy.Decide(ans, pr, c.unit())
		if c.observe != nil {
			ev := Event{Attempt: attempt, Status: fail.Status, Code: fail.Code, RequestID: fail.RequestID, Decision: d}
			if fail.Meta != nil {
				ev.RetryAfter = fail.Meta.RetryAfter
			}
			c.observe(ev)
		}
		if !d.Retry {
			fail.Stop = d.Stop
			return fail
		}
		if err := c.sleep(callCtx, d.Delay); err != nil {
			if cut := c.cut(ctx, callCtx, ids, attempt, fail); cut != nil {
				return cut
			}
			return fail
		}
	}
}

// cut turns the end of the caller's context or of the call's deadline into an *Error.
func (c *Client) cut(parent, callCtx context.Context, ids []string, attempt int, last *Error) *Error {
	var e *Error
	switch {
	case parent.Err() != nil:
		e = &Error{Message: parent.Err().Error(), Err: parent.Err()}
	case callCtx.Err() != nil:
		e = &Error{Message: fmt.Sprintf("deadline of %s exceeded", c.policy.Deadline), Err: ErrDeadline}
	default:
		return nil
	}
	if last != nil {
		e.Code, e.Status, e.Message, e.DocsURL, e.Meta = last.Code, last.Status, last.Message+" ("+e.Message+")", last.DocsURL, last.Meta
	}
	if len(ids) > 0 {
		e.RequestID = ids[len(ids)-1]
	}
	e.RequestIDs, e.Attempts, e.Stop = ids, attempt, StopDeadline
	return e
}

func (c *Client) attempt(ctx context.Context, r request, u string, payload []byte) (*http.Response, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.idempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return resp, raw, nil
}

// failure reads a non-2xx answer: the envelope when there is one, else the bare status.
func failure(status int, raw []byte, m Meta, now time.Time) (*Error, Answer) {
	ans := Answer{Status: status}
	ans.RetryAfter, ans.HasRetryAfter = ParseRetryAfter(m.RetryAfter, now)
	e := &Error{Status: status, RequestID: m.RequestID, Meta: &m}
	var env envelope
	if json.Unmarshal(raw, &env) == nil && env.Error != "" {
		e.Code, e.Message, e.DocsURL = env.Error, env.Message, env.DocsURL
		if env.RequestID != "" {
			e.RequestID = env.RequestID
		}
		if env.Retryable != nil {
			e.Retryable = *env.Retryable
		} else {
			e.Retryable = IsRetryableCode(env.Error)
		}
		ans.Code, ans.Retryable = env.Error, e.Retryable
		return e, ans
	}
	e.Message = http.StatusText(status)
	e.Retryable = status >= 502 && status <= 504
	return e, ans
}
