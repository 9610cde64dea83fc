package asa_test

import (
	"encoding/json"
	"errors"
	"net/textproto"
)

func errorsAs(err error, target interface{}) bool { return errors.As(err, target) }

func canonicalHeader(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func jsonUnmarshal(b []byte, v interface{}) error { return json.Unmarshal(b, v) }
