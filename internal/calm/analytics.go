package calm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Provider is one analytics data provider.
type Provider struct {
	Name, Description, Service, Domain string
	Version                            []string
}

// UnmarshalJSON accepts version as a list or a single string.
func (p *Provider) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Service     string          `json:"service"`
		Domain      string          `json:"domain"`
		Version     json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = Provider{Name: raw.Name, Description: raw.Description, Service: raw.Service, Domain: raw.Domain}
	if len(raw.Version) > 0 && string(raw.Version) != "null" {
		if json.Unmarshal(raw.Version, &p.Version) != nil {
			var one string
			if err := json.Unmarshal(raw.Version, &one); err != nil {
				return fmt.Errorf("provider %q: version is neither a list nor a string", raw.Name)
			}
			p.Version = []string{one}
		}
	}
	return nil
}

// Providers lists the analytics providers: GET /api/calm-analytics/v1/analytics/providers.
// It is the cheapest authenticated call (scope calm-api.analytics.read).
func (c *Client) Providers(ctx context.Context) ([]Provider, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "calm-analytics/v1/analytics/providers", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	var ps []Provider
	if _, err := c.do(req, &ps); err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	return ps, nil
}

// FilterValue is one value of a provider filter: for serviceId, Key is the service UUID and
// Label its name.
type FilterValue struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// Filter is one filter (dimension) of an analytics provider.
type Filter struct {
	Key         string        `json:"key"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Type        string        `json:"type"`
	Values      []FilterValue `json:"values"`
}

// ProviderFilters lists a provider's filters and their values:
// POST /api/calm-analytics/v1/analytics/providers/filters with
// {"providerName":provider,"providerVersion":version}. provider is the analytics provider name,
// e.g. "EXM_DATAPROVIDER".
func (c *Client) ProviderFilters(ctx context.Context, provider, version string) ([]Filter, error) {
	body := struct {
		ProviderName    string `json:"providerName"`
		ProviderVersion string `json:"providerVersion"`
	}{provider, version}
	req, err := c.newRequest(ctx, http.MethodPost, "calm-analytics/v1/analytics/providers/filters", nil, body)
	if err != nil {
		return nil, fmt.Errorf("list filters of provider %s %s: %w", provider, version, err)
	}
	var fs []Filter
	if _, err := c.do(req, &fs); err != nil {
		return nil, fmt.Errorf("list filters of provider %s %s: %w", provider, version, err)
	}
	return fs, nil
}

// Service is one monitored service (as the analytics filters know it).
type Service struct{ ID, Name string }

// Services lists the services of an analytics provider (e.g. "DP_RUM_REQUEST_TYPES"): the
// values of its "serviceId" filter (version "v1"). A provider without that filter is an error.
func (c *Client) Services(ctx context.Context, provider string) ([]Service, error) {
	fs, err := c.ProviderFilters(ctx, provider, "v1")
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	for _, f := range fs {
		if f.Key != "serviceId" {
			continue
		}
		svcs := make([]Service, 0, len(f.Values))
		for _, v := range f.Values {
			svcs = append(svcs, Service{ID: v.Key, Name: v.Label})
		}
		return svcs, nil
	}
	return nil, fmt.Errorf("list services: provider %s has no serviceId filter", provider)
}
