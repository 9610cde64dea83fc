package asa

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Meta is the X-Request-Id and Asa-* headers of an answer.
type Meta struct {
	Status           int
	RequestID        string
	Cost             *int64 // Asa-Cost: credits charged
	UpstreamAttempts *int   // Asa-Attempts
	SourceStatus     *int   // Asa-Source-Status
	ResolvedURL      string // Asa-Resolved-Url
	ExtractorVersion string // Asa-Extractor-Version
	Concurrency      string // Asa-Concurrency: in_flight/allowed
	RPS              string // Asa-Rps: recent/allowed
	RetryAfter       string
	Header           http.Header
}

func metaFrom(r *http.Response) Meta {
	h := r.Header
	m := Meta{
		Status:           r.StatusCode,
		RequestID:        h.Get("X-Request-Id"),
		ResolvedURL:      h.Get("Asa-Resolved-Url"),
		ExtractorVersion: h.Get("Asa-Extractor-Version"),
		Concurrency:      h.Get("Asa-Concurrency"),
		RPS:              h.Get("Asa-Rps"),
		RetryAfter:       h.Get("Retry-After"),
		Header:           h.Clone(),
	}
	if v, err := strconv.ParseInt(h.Get("Asa-Cost"), 10, 64); err == nil {
		m.Cost = &v
	}
	if v, err := strconv.Atoi(h.Get("Asa-Attempts")); err == nil {
		m.UpstreamAttempts = &v
	}
	if v, err := strconv.Atoi(h.Get("Asa-Source-Status")); err == nil {
		m.SourceStatus = &v
	}
	return m
}

// Response carries what every successful call returns besides its typed body: the raw
// JSON (fields the type does not name, such as html, are there), the headers and the
// request id of every attempt.
type Response struct {
	Raw        json.RawMessage `json:"-"`
	Meta       Meta            `json:"-"`
	RequestIDs []string        `json:"-"`
}

// Product is GET /api/v1/amazon/product. Absent values are nil.
type Product struct {
	ASIN                    string            `json:"asin"`
	ParentASIN              *string           `json:"parent_asin"`
	URL                     *string           `json:"url"`
	Title                   *string           `json:"title"`
	Brand                   *string           `json:"brand"`
	Manufacturer            *string           `json:"manufacturer"`
	Price                   *float64          `json:"price"`
	PriceBuybox             *float64          `json:"price_buybox"`
	PriceStrikethrough      *float64          `json:"price_strikethrough"`
	Currency                *string           `json:"currency"`
	PriceRaw                *string           `json:"price_raw"`
	Stock                   *string           `json:"stock"`
	IsPrime                 *bool             `json:"is_prime"`
	Rating                  *float64          `json:"rating"`
	ReviewsCount            *int64            `json:"reviews_count"`
	RatingStarsDistribution json.RawMessage   `json:"rating_stars_distribution"`
	AnsweredQuestionsCount  *int64            `json:"answered_questions_count"`
	Images                  []string          `json:"images"`
	HasVideos               *bool             `json:"has_videos"`
	BulletPoints            *string           `json:"bullet_points"`
	Description             *string           `json:"description"`
	ProductDetails          map[string]string `json:"product_details"`
	ProductDimensions       *string           `json:"product_dimensions"`
	Category                []Category        `json:"category"`
	SalesRank               []SalesRank       `json:"sales_rank"`
	Buybox                  []BuyboxOffer     `json:"buybox"`
	FeaturedMerchant        *Merchant         `json:"featured_merchant"`
	Variations              []Variation       `json:"variations"`
	Delivery                json.RawMessage   `json:"delivery"`
	MaxQuantity             *int64            `json:"max_quantity"`
	PricingCount            *int64            `json:"pricing_count"`
	Marketplace             *string           `json:"marketplace"`
	Language                *string           `json:"language"`
	HTML                    *string           `json:"html"`
	RequestID               string            `json:"request_id"`
	Response
}

// StarShare is the share of ratings (percent) with Rating stars.
type StarShare struct {
	Rating     int     `json:"rating"`
	Percentage float64 `json:"percentage"`
}

type Category struct {
	Ladder []struct {
		Name string  `json:"name"`
		URL  *string `json:"url"`
	} `json:"ladder"`
	Rank *int64 `json:"rank"`
}

type SalesRank struct {
	Category string `json:"category"`
	Rank     int64  `json:"rank"`
}

type BuyboxOffer struct {
	Price      *float64 `json:"price"`
	SellerName *string  `json:"seller_name"`
	SellerID   *string  `json:"seller_id"`
	Stock      *string  `json:"stock"`
	Returns    *string  `json:"returns"`
}

type Merchant struct {
	Name              *string `json:"name"`
	SellerID          *string `json:"seller_id"`
	IsAmazonFulfilled *bool   `json:"is_amazon_fulfilled"`
}

type Variation struct {
	ASIN       string            `json:"asin"`
	Dimensions map[string]string `json:"dimensions"`
	Selected   bool              `json:"selected"`
}

// Search is GET /api/v1/amazon/search.
type Search struct {
	Query     string          `json:"query"`
	Domain    string          `json:"domain"`
	SortBy    string          `json:"sort_by"`
	StartPage int             `json:"start_page"`
	Pages     int             `json:"pages"`
	NoResults bool            `json:"no_results"`
	Products  []SearchProduct `json:"products"`
	// FailedPages are pages of the range that could not be delivered (the others are billed).
	FailedPages []FailedPage `json:"failed_pages"`
	RequestID   string       `json:"request_id"`
	Response
}

type SearchProduct struct {
	ASIN               string   `json:"asin"`
	Title              *string  `json:"title"`
	URL                *string  `json:"url"`
	Image              *string  `json:"image"`
	Price              *float64 `json:"price"`
	PriceStrikethrough *float64 `json:"price_strikethrough"`
	HighestPrice       *float64 `json:"highest_price"`
	Currency           *string  `json:"currency"`
	Rating             *float64 `json:"rating"`
	ReviewsCount       *int64   `json:"reviews_count"`
	SalesVolume        *string  `json:"sales_volume"`
	IsPrime            bool     `json:"is_prime"`
	IsAmazonsChoice    bool     `json:"is_amazons_choice"`
	IsSponsored        bool     `json:"is_sponsored"`
	BestSeller         bool     `json:"best_seller"`
	OrganicPosition    *int     `json:"organic_position"`
	SponsoredPosition  *int     `json:"sponsored_position"`
	Page               int      `json:"page"`
}

// FailedPage is a search result page that could not be delivered.
type FailedPage struct {
	Page    int    `json:"page"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Account is GET /api/v1/account.
type Account struct {
	AccountID string          `json:"account_id"`
	Name      *string         `json:"name"`
	Plan      string          `json:"plan"`
	Limits    Limits          `json:"limits"`
	Credits   Credits         `json:"credits"`
	AutoTopup *AutoTopup      `json:"auto_topup"`
	Key       json.RawMessage `json:"key"`
	Usage     json.RawMessage `json:"usage"`
	RequestID string          `json:"request_id"`
	Response
}

type Limits struct {
	Concurrency int             `json:"concurrency"`
	RPS         float64         `json:"rps"`
	Burst       int             `json:"burst"`
	Countries   json.RawMessage `json:"countries"`
}

type Credits struct {
	Balance     int64  `json:"balance"`
	Reserved    int64  `json:"reserved"`
	CostPerPage *int64 `json:"cost_per_page"`
}

type AutoTopup struct {
	Threshold  int64 `json:"threshold"`
	Amount     int64 `json:"amount"`
	MonthlyCap int64 `json:"monthly_cap"`
}

// Trace is GET /api/v1/requests/{request_id}: the stored trace of one request.
type Trace struct {
	RequestID      string          `json:"request_id"`
	CreatedAt      *string         `json:"created_at"`
	KeyPrefix      *string         `json:"key_prefix"`
	Endpoint       string          `json:"endpoint"`
	Params         json.RawMessage `json:"params"`
	Status         int             `json:"status"`
	ErrorCode      *string         `json:"error_code"`
	CreditsCharged int64           `json:"credits_charged"`
	LatencyMS      int64           `json:"latency_ms"`
	Attempts       json.RawMessage `json:"attempts"`
	Extractor      json.RawMessage `json:"extractor"`
	Response
}

// Batch is a batch as POST /amazon/batch (201), GET /amazon/batch/{id} and the
// batch.completed webhook describe it. WebhookSignatureSecret is only in the creation answer.
type Batch struct {
	ID                     string  `json:"id"`
	Status                 string  `json:"status"` // pending | running | complete | failed
	Endpoint               *string `json:"endpoint"`
	TotalCount             int     `json:"total_count"`
	ProcessedCount         int     `json:"processed_count"`
	SuccessCount           int     `json:"success_count"`
	FailureCount           int     `json:"failure_count"`
	CreditsCharged         int64   `json:"credits_charged"`
	CreatedAt              *string `json:"created_at"`
	StartedAt              *string `json:"started_at"`
	CompletedAt            *string `json:"completed_at"`
	PollURL                *string `json:"poll_url"`
	WebhookURL             *string `json:"webhook_url"`
	WebhookSignatureSecret *string `json:"webhook_signature_secret"`
	// WebhookDeliveryStatus is pending, delivered or failed; nil without a webhook.
	WebhookDeliveryStatus *string `json:"webhook_delivery_status"`
	WebhookAttempts       int     `json:"webhook_attempts"`
	WebhookNextAttemptAt  *string `json:"webhook_next_attempt_at"`
	WebhookLastError      *string `json:"webhook_last_error"`
	// Results are the processed items of this page (none in a list).
	Results []BatchResult `json:"results"`
	// ResultsNextOffset is set when more results follow: the next page's results_offset.
	ResultsNextOffset *int `json:"results_next_offset"`
	// Event is "batch.completed" in a webhook's body.
	Event     *string `json:"event"`
	RequestID *string `json:"request_id"`
	Response
}

// Finished reports whether the batch reached complete or failed.
func (b *Batch) Finished() bool { return b.Status == "complete" || b.Status == "failed" }

// BatchResult is one processed item. HTTPStatus and DurationMS are 0 when the server
// sends null; Data and Error hold the raw JSON ("null" when absent).
type BatchResult struct {
	Index          int             `json:"index"` // the item's position in the request
	Input          json.RawMessage `json:"input"`
	Status         string          `json:"status"` // ok | error
	HTTPStatus     int             `json:"http_status"`
	Data           json.RawMessage `json:"data"`
	Error          json.RawMessage `json:"error"` // the error envelope of a failed item
	DurationMS     int64           `json:"duration_ms"`
	CreditsCharged int64           `json:"credits_charged"`
	RequestID      *string         `json:"request_id"` // the item's run, as a trace id
}

// BatchList is GET /api/v1/amazon/batch?limit=N.
type BatchList struct {
	Batches   []Batch `json:"batches"`
	RequestID *string `json:"request_id"`
	Response
}

func (r *Response) setResponse(raw json.RawMessage, m Meta, ids []string) {
	r.Raw, r.Meta, r.RequestIDs = raw, m, ids
}

type responder interface {
	setResponse(json.RawMessage, Meta, []string)
}
