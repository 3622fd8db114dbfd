package calm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

// FuzzParseSettings: settings parsing never panics, and neither its errors, its warnings nor
// the printed settings ever contain the client secret or the private key.
func FuzzParseSettings(f *testing.F) {
	for _, name := range []string{"connector.json", "servicekey.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"clientSecret":"only-the-secret-given","url":"http://example.com/api/"}`))
	f.Add([]byte(`{"uaa":{"clientid":"x","clientsecret":"sk-secret-4711","url":"https://a.b/oauth/token","credential-type":"x509"},"endpoints":{"Api":"ftp://x"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, warnings, err := ParseSettings(data)
		out := strings.Join(warnings, "\n")
		if err != nil {
			out += "\n" + err.Error()
		} else {
			if verr := s.Validate(); verr != nil {
				t.Errorf("ParseSettings accepted settings that Validate refuses: %v", verr)
			}
			b, _ := json.Marshal(s)
			out += fmt.Sprintf("\n%v\n%+v\n%#v\n%s\n%s", s, s, s, s.ClientSecret, b)
		}
		for _, secret := range testkit.SecretsIn(data) {
			if strings.Contains(out, secret) {
				t.Fatalf("output holds the secret %q:\n%s", secret, out)
			}
		}
	})
}

// FuzzStatusEvents: whatever the events API answers, decoding never panics and either fails
// with an error or yields events whose Fields hold every named field.
func FuzzStatusEvents(f *testing.F) {
	f.Add(readTestdata(f, "events.json"), 2)
	f.Add([]byte(`[{"eventId":1,"eventStatus":null,"eventEndTime":{"a":[1,2]}}]`), -1)
	f.Add([]byte(`{"value":[]}`), 0)
	f.Add([]byte(`[]`), 5)
	tn := newTenant(f)
	var body atomicBytes
	tn.mux.HandleFunc("GET /api/bsm-service/v1/events", func(w http.ResponseWriter, r *http.Request) {
		b, total := body.load()
		writeJSON(w, total, b)
	})
	c := tn.client(func(o *Options) { o.MaxRetries = -1; o.PageSize = 3 })
	f.Fuzz(func(t *testing.T, data []byte, total int) {
		body.store(data, total)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n := 0
		for ev, err := range c.StatusEvents(ctx, EventsQuery{From: winFrom, To: winTo}) {
			if err != nil {
				break
			}
			n++
			if ev.Fields == nil {
				t.Fatal("event without Fields")
			}
			if ev.EventID != ev.Fields["eventId"] || ev.EventStatus != ev.Fields["eventStatus"] {
				t.Fatalf("named fields differ from Fields: %+v", ev)
			}
		}
		if n > len(data) {
			t.Fatalf("%d events from %d bytes", n, len(data))
		}
	})
}

// atomicBytes is the body (and x-total-count) the fuzzed events server answers.
type atomicBytes struct {
	mu    sync.Mutex
	b     []byte
	total int
}

func (a *atomicBytes) store(b []byte, total int) { a.mu.Lock(); a.b, a.total = b, total; a.mu.Unlock() }
func (a *atomicBytes) load() ([]byte, int)       { a.mu.Lock(); defer a.mu.Unlock(); return a.b, a.total }
