package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// The simulator declares its wire types itself instead of importing internal/calm's: it is a
// second reading of SAP's API, so a wrong JSON field in the client fails a test rather than
// agreeing with itself (docs/architecture.md, internal/sim).

// AnalyticsProvider is one entry of the analytics providers list.
type AnalyticsProvider struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Service     string   `json:"service"`
	Domain      string   `json:"domain"`
	Version     []string `json:"version"`
}

// FilterValue is one value of an analytics filter.
type FilterValue struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// Filter is one filter of an analytics provider.
type Filter struct {
	Key         string        `json:"key"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Type        string        `json:"type"`
	Values      []FilterValue `json:"values"`
}

func analyticsProviders() []AnalyticsProvider {
	var out []AnalyticsProvider
	for _, p := range providers {
		out = append(out, AnalyticsProvider{Name: p.analytics, Description: p.description, Service: "calm-metrics", Domain: p.domain, Version: []string{"v1"}})
	}
	for _, p := range extraAnalyticsProviders {
		out = append(out, AnalyticsProvider{Name: p.name, Description: p.description, Service: "calm-analytics", Domain: p.domain, Version: []string{"v1"}})
	}
	return out
}

func (s *Server) handleProviders(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, analyticsProviders())
}

// Filters returns the filters of an analytics provider (nil for an unknown one).
func (s *Server) Filters(providerName string) []Filter {
	p := lookupAnalytics(providerName)
	known := p != nil || slices.ContainsFunc(extraAnalyticsProviders, func(e struct{ name, description, domain string }) bool {
		return e.name == providerName
	})
	if !known {
		return nil
	}
	ids := Filter{Key: "serviceId", Name: "Service", Description: "Cloud ALM service", Type: "string", Values: []FilterValue{}}
	types := Filter{Key: "serviceType", Name: "Service Type", Description: "Type of the service", Type: "string", Values: []FilterValue{}}
	for _, svc := range s.services {
		ids.Values = append(ids.Values, FilterValue{Key: svc.ID, Label: svc.Name})
		if !slices.ContainsFunc(types.Values, func(v FilterValue) bool { return v.Key == svc.Type }) {
			types.Values = append(types.Values, FilterValue{Key: svc.Type, Label: svc.TypeLabel})
		}
	}
	out := []Filter{ids, types}
	if p == nil {
		return out
	}
	for _, d := range p.pointDims {
		pool, ok := pools[d]
		if !ok {
			continue
		}
		f := Filter{Key: d, Name: d, Description: fmt.Sprintf("%s of %s", d, p.description), Type: "string", Values: []FilterValue{}}
		for _, v := range slices.Compact(slices.Sorted(slices.Values(pool))) {
			f.Values = append(f.Values, FilterValue{Key: v, Label: v})
		}
		out = append(out, f)
	}
	return out
}

func (s *Server) handleFilters(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ProviderName    string `json:"providerName"`
		ProviderVersion string `json:"providerVersion"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		badParam("the body must be JSON like {\"providerName\":\"EXM_DATAPROVIDER\",\"providerVersion\":\"v1\"}").write(w)
		return
	}
	if body.ProviderName == "" {
		missingParam("providerName").write(w)
		return
	}
	if body.ProviderVersion != "" && body.ProviderVersion != "v1" {
		badParam("providerVersion %q is not supported; use v1", body.ProviderVersion).write(w)
		return
	}
	f := s.Filters(body.ProviderName)
	if f == nil {
		writeError(w, http.StatusNotFound, "Not Found", fmt.Sprintf("provider %q not found", body.ProviderName))
		return
	}
	writeJSON(w, http.StatusOK, f)
}
