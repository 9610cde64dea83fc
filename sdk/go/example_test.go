package asa_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	asa "github.com/asa-project/asa/sdk/go"
)

// The README's quick start, compiled with the tests.
func Example() {
	ctx := context.Background()
	c := asa.New(asa.WithBaseURL("http://127.0.0.1:8080"), asa.WithAPIKey("asa_live_..."))
	p, err := c.Product(ctx, asa.ProductParams{Query: "B000LQXC2Q", Domain: "de"})
	var e *asa.Error
	if errors.As(err, &e) {
		log.Fatalf("%s %d %s %v", e.Code, e.Status, e.Message, e.RequestIDs)
	}
	fmt.Println(*p.Title, *p.Price, *p.Meta.Cost)
	s, _ := c.Search(ctx, asa.SearchParams{Query: "usb c", SortBy: asa.SortPriceAsc, Pages: 2})
	acc, _ := c.Account(ctx)
	tr, _ := c.Trace(ctx, p.RequestID)
	fmt.Println(len(s.Products), acc.Credits.Balance, tr.Status)
}

func ExampleVerifyWebhookSignature() {
	secret := "whsec_..." // the batch's webhook_signature_secret, shown once at creation
	http.HandleFunc("/asa-webhook", func(w http.ResponseWriter, r *http.Request) {
		var raw []byte // the raw request body, read before any parsing
		if err := asa.VerifyWebhookSignature(secret, raw, r.Header.Get("X-ASA-Signature")); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
