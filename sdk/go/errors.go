package asa

import (
	"errors"
	"fmt"
	"strings"
)

// ErrDeadline is wrapped by an *Error when the call's overall deadline cut an attempt.
var ErrDeadline = errors.New("asa: call deadline exceeded")

// Error is every failure of a call: an error envelope from the server, a non-JSON answer,
// or no answer at all. Use errors.As(err, &asaErr) to read it.
type Error struct {
	// Code is the envelope's error code ("" for a bare answer or a transport failure).
	Code string
	// Status is the HTTP status of the last answer (0 when none arrived).
	Status    int
	Message   string
	DocsURL   string
	Retryable bool
	// RequestID is the last attempt's request id; RequestIDs holds every attempt's.
	RequestID  string
	RequestIDs []string
	// Attempts is how many attempts the call made; Stop why it stopped retrying.
	Attempts int
	Stop     Stop
	// Meta holds the last answer's headers, when there was one.
	Meta *Meta
	// Err is the underlying transport error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("asa: ")
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, "%s (%d): %s", e.Code, e.Status, e.Message)
	case e.Status != 0:
		fmt.Fprintf(&b, "HTTP %d: %s", e.Status, e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts (%s)", e.Attempts, e.Stop)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
