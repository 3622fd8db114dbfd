package sim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// rum-service-limit: a rum query naming no service is refused with 428 and SAP's message; one
// naming services is answered; the tenant lists more services than one query may name.
func TestBehaviourRUMServiceLimit(t *testing.T) {
	s, _ := start(t, Config{Services: 3, Behaviours: Behaviours{RUMServiceLimit: true}})
	if n := len(s.ServiceIDs()); n <= rumMaxServices {
		t.Fatalf("%d services, want more than %d", n, rumMaxServices)
	}
	tok := token(t, s)
	q := metricsQuery("rum", t0.Add(-time.Hour).Truncate(time.Hour), t0.Truncate(time.Hour))
	r := get(t, s, tok, metricsPath, q)
	if r.status != http.StatusPreconditionRequired || !strings.Contains(string(r.body), "At most 5 services or systems allowed in scope") {
		t.Fatalf("rum without serviceId: %v", r)
	}
	q.Set("serviceId", strings.Join(s.ServiceIDs()[:5], ","))
	if r := get(t, s, tok, metricsPath, q); r.status != http.StatusOK {
		t.Fatalf("rum with 5 services: %v", r)
	}
	q.Del("serviceId")
	q.Set("provider", "hm")
	if r := get(t, s, tok, metricsPath, q); r.status != http.StatusOK {
		t.Fatalf("hm without serviceId: %v", r)
	}
}
