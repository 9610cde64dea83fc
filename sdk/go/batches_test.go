package asa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

// finished polls GetBatch until the batch is complete or failed (bounded: a stuck batch
// fails the test).
func finished(t *testing.T, c *asa.Client, id string) *asa.Batch {
	t.Helper()
	for i := 0; i < 600; i++ {
		b, err := c.GetBatch(context.Background(), id)
		if err != nil {
			t.Fatalf("GetBatch: %v", err)
		}
		if b.Finished() {
			return b
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("batch %s did not finish", id)
	return nil
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestSandboxBatch creates a sandbox batch twice with one Idempotency-Key, polls it to
// the end and reads its results and the list through the typed API.
func TestSandboxBatch(t *testing.T) {
	rec := &sleepRecorder{scale: 1000}
	c := client(newSandboxKey(t), asa.WithRetrySleep(rec.sleep))
	ctx := context.Background()
	req := asa.ProductBatch("B000LQXC2Q", "B000LQXC2R", "B0NOTFND01")
	req.Items[1]["domain"] = "de"
	req.IdempotencyKey = "go-batch-1"
	created, err := c.CreateBatch(ctx, req)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if created.Meta.Status != 201 || !strings.HasPrefix(created.ID, "bat_") || len(created.ID) != 20 {
		t.Fatalf("created %d %s", created.Meta.Status, created.Raw)
	}
	if created.Status != "pending" || str(created.Endpoint) != "amazon.product" || created.TotalCount != 3 || created.ProcessedCount != 0 {
		t.Errorf("created %s", created.Raw)
	}
	if !strings.HasPrefix(str(created.WebhookSignatureSecret), "whsec_") {
		t.Errorf("secret %q", str(created.WebhookSignatureSecret))
	}
	if !strings.HasSuffix(str(created.PollURL), "/api/v1/amazon/batch/"+created.ID) {
		t.Errorf("poll_url %q", str(created.PollURL))
	}
	if created.WebhookURL != nil || created.WebhookDeliveryStatus != nil || created.CompletedAt != nil || created.CreatedAt == nil {
		t.Errorf("created %s", created.Raw)
	}
	if str(created.RequestID) != created.Meta.RequestID {
		t.Errorf("request_id %q, header %q", str(created.RequestID), created.Meta.RequestID)
	}

	again, err := c.CreateBatch(ctx, req)
	if err != nil {
		t.Fatalf("CreateBatch again: %v", err)
	}
	if again.Meta.Status != 201 || again.ID != created.ID || str(again.WebhookSignatureSecret) != str(created.WebhookSignatureSecret) {
		t.Errorf("the same Idempotency-Key must answer the first batch: %s", again.Raw)
	}

	done := finished(t, c, created.ID)
	if done.Status != "complete" || done.ProcessedCount != 3 || done.SuccessCount != 2 || done.FailureCount != 1 || done.CreditsCharged != 0 {
		t.Fatalf("done %s", done.Raw)
	}
	if done.StartedAt == nil || done.CompletedAt == nil || done.WebhookSignatureSecret != nil || done.ResultsNextOffset != nil {
		t.Errorf("done %s", done.Raw)
	}
	if len(done.Results) != 3 {
		t.Fatalf("results %s", done.Raw)
	}
	want := []struct {
		status string
		http   int
	}{{"ok", 200}, {"ok", 200}, {"error", 404}}
	for i, r := range done.Results {
		if r.Index != i || r.Status != want[i].status || r.HTTPStatus != want[i].http || !strings.HasPrefix(str(r.RequestID), "req_") {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	var product struct {
		ASIN        string `json:"asin"`
		Marketplace string `json:"marketplace"`
	}
	if err := json.Unmarshal(done.Results[1].Data, &product); err != nil || product.ASIN != "B000LQXC2R" || product.Marketplace != "de" {
		t.Errorf("result 1 data %s (%v)", done.Results[1].Data, err)
	}
	var envelope struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(done.Results[2].Error, &envelope); err != nil || envelope.Error != "product_not_found" {
		t.Errorf("result 2 error %s (%v)", done.Results[2].Error, err)
	}
	if string(done.Results[2].Data) != "null" || done.Results[2].CreditsCharged != 0 {
		t.Errorf("result 2 %+v", done.Results[2])
	}

	list, err := c.ListBatches(ctx, 5)
	if err != nil {
		t.Fatalf("ListBatches: %v", err)
	}
	if len(list.Batches) != 1 || list.Batches[0].ID != created.ID || list.Batches[0].Status != "complete" || list.Batches[0].Results != nil {
		t.Errorf("list %s", list.Raw)
	}
	if len(rec.waits) != 0 {
		t.Errorf("waited %v", rec.waits)
	}
}

// TestBadBatches: a bad item, a bad webhook_url and an unknown id are typed errors,
// never retried; the key is checked first.
func TestBadBatches(t *testing.T) {
	rec := &sleepRecorder{scale: 1000}
	c := client(newSandboxKey(t), asa.WithRetrySleep(rec.sleep))
	ctx := context.Background()
	_, err := c.CreateBatch(ctx, asa.BatchRequest{Endpoint: "amazon.search", Items: []asa.BatchItem{{"query": "usb c"}, {"query": "usb", "pages": 11}}})
	e := checkPermanent(t, err, "invalid_params", 400, rec)
	if !strings.HasPrefix(e.Message, "items[1]") {
		t.Errorf("message %q", e.Message)
	}
	bad := asa.ProductBatch("B000LQXC2Q")
	bad.WebhookURL = "ftp://127.0.0.1/hook"
	_, err = c.CreateBatch(ctx, bad)
	if e := checkPermanent(t, err, "invalid_params", 400, rec); !strings.Contains(e.Message, "webhook_url") {
		t.Errorf("message %q", e.Message)
	}
	_, err = c.GetBatch(ctx, "bat_0000000000000000")
	checkPermanent(t, err, "not_found", 404, rec)
	_, err = client("asa_live_00000000000000000000000000000000").ListBatches(ctx, 5)
	checkPermanent(t, err, "unauthorized", 401, nil)
}

type delivery struct {
	header http.Header
	body   []byte
}

// TestBatchWebhook: batch.completed reaches a receiver on loopback, signed with the
// batch's secret; VerifyWebhookSignature accepts it and refuses a tampered body.
func TestBatchWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []delivery
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.Header.Clone(), body})
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = hook.Serve(l) }()
	defer hook.Close()
	url := "http://" + l.Addr().String() + "/hooks/asa"

	c := client(newSandboxKey(t))
	ctx := context.Background()
	req := asa.ProductBatch("B000LQXC2Q", "B0NOTFND01")
	req.WebhookURL = url
	created, err := c.CreateBatch(ctx, req)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	secret := str(created.WebhookSignatureSecret)
	if str(created.WebhookURL) != url || str(created.WebhookDeliveryStatus) != "pending" {
		t.Errorf("created %s", created.Raw)
	}
	finished(t, c, created.ID)
	b := created
	for i := 0; i < 600 && str(b.WebhookDeliveryStatus) == "pending"; i++ {
		time.Sleep(100 * time.Millisecond)
		if b, err = c.GetBatch(ctx, created.ID); err != nil {
			t.Fatalf("GetBatch: %v", err)
		}
	}
	if str(b.WebhookDeliveryStatus) != "delivered" || b.WebhookAttempts != 1 || b.WebhookLastError != nil {
		t.Fatalf("webhook state %s", b.Raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	d := got[0]
	if d.header.Get("X-ASA-Event") != "batch.completed" || d.header.Get("X-ASA-Batch-Id") != created.ID {
		t.Errorf("headers %v", d.header)
	}
	sig := d.header.Get("X-ASA-Signature")
	if err := asa.VerifyWebhookSignature(secret, d.body, sig); err != nil {
		t.Errorf("the SDK refuses the server's signature: %v", err)
	}
	tampered := bytes.Replace(d.body, []byte(`"complete"`), []byte(`"failed"`), 1)
	if bytes.Equal(tampered, d.body) {
		t.Fatalf("body without a complete status: %s", d.body)
	}
	if err := asa.VerifyWebhookSignature(secret, tampered, sig); err != asa.ErrInvalidSignature {
		t.Errorf("a tampered body verified: %v", err)
	}
	var event asa.Batch
	if err := json.Unmarshal(d.body, &event); err != nil {
		t.Fatalf("webhook body: %v", err)
	}
	if str(event.Event) != "batch.completed" || event.ID != created.ID || event.WebhookSignatureSecret != nil || len(event.Results) != 2 || event.Results[1].Status != "error" {
		t.Errorf("event %s", d.body)
	}
}
