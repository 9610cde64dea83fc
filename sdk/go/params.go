package asa

import (
	"net/url"
	"strconv"
)

// ProductParams are GET /amazon/product's parameters, named as the public API names them.
type ProductParams struct {
	Query    string // ASIN or product URL (required)
	Domain   string // marketplace TLD, e.g. "de" (default com)
	Language string // e.g. "de_DE"
	Country  string // ISO 3166-1 alpha-2 exit country
	AddHTML  bool
	// Extra passes further parameters as they are (e.g. render_js).
	Extra map[string]string
}

func (p ProductParams) values() url.Values {
	v := url.Values{}
	v.Set("query", p.Query)
	common(v, p.Domain, p.Language, p.Country)
	if p.AddHTML {
		v.Set("add_html", "true")
	}
	for k, x := range p.Extra {
		v.Set(k, x)
	}
	return v
}

// SearchParams are GET /amazon/search's parameters.
type SearchParams struct {
	Query     string // required, 1..=500 characters
	Domain    string
	Language  string
	Country   string
	SortBy    string // best_match, price_asc, price_desc, avg_customer_review, newest
	StartPage int    // 1..=10 (0: server default)
	Pages     int    // 1..=10 (0: server default)
	AddHTML   bool
	Extra     map[string]string
}

// Sort orders accepted by SearchParams.SortBy.
const (
	SortBestMatch         = "best_match"
	SortPriceAsc          = "price_asc"
	SortPriceDesc         = "price_desc"
	SortAvgCustomerReview = "avg_customer_review"
	SortNewest            = "newest"
)

func (p SearchParams) values() url.Values {
	v := url.Values{}
	v.Set("query", p.Query)
	common(v, p.Domain, p.Language, p.Country)
	if p.SortBy != "" {
		v.Set("sort_by", p.SortBy)
	}
	if p.StartPage != 0 {
		v.Set("start_page", strconv.Itoa(p.StartPage))
	}
	if p.Pages != 0 {
		v.Set("pages", strconv.Itoa(p.Pages))
	}
	if p.AddHTML {
		v.Set("add_html", "true")
	}
	for k, x := range p.Extra {
		v.Set(k, x)
	}
	return v
}

func common(v url.Values, domain, language, country string) {
	if domain != "" {
		v.Set("domain", domain)
	}
	if language != "" {
		v.Set("language", language)
	}
	if country != "" {
		v.Set("country", country)
	}
}

// BatchItem is one item of a batch: the same parameters as the sync endpoint.
type BatchItem map[string]interface{}

// BatchRequest is POST /amazon/batch's body.
type BatchRequest struct {
	Endpoint   string      `json:"endpoint"` // "amazon.product" or "amazon.search"
	Items      []BatchItem `json:"items"`
	WebhookURL string      `json:"webhook_url,omitempty"`
	// IdempotencyKey makes a repeated POST return the first batch; one is made up when empty.
	IdempotencyKey string `json:"-"`
}

// ProductBatch builds a product batch of ASINs or URLs.
func ProductBatch(queries ...string) BatchRequest {
	items := make([]BatchItem, 0, len(queries))
	for _, q := range queries {
		items = append(items, BatchItem{"query": q})
	}
	return BatchRequest{Endpoint: "amazon.product", Items: items}
}
