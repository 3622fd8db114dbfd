package sim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogProviders: the logs API serves each provider SAP lists, with records of its own,
// refuses an unknown or missing provider naming the known ones, and asks for the provider's
// scope.
func TestLogProviders(t *testing.T) {
	s, _ := start(t, Config{Scopes: slices.DeleteFunc(slices.Clone(AllScopes), func(sc string) bool { return sc == ScopeJAM })})
	tok := token(t, s)
	svc := s.ServiceIDs()[0]
	from, to := t0.Add(-time.Hour), t0
	q := func(provider string) url.Values {
		return url.Values{"serviceId": {svc}, "provider": {provider}, "from": {from.Format(TimeLayout)}, "to": {to.Format(TimeLayout)},
			"limit": {"1000"}, "onLimit": {"TRUNCATE"}}
	}
	seen := map[string]string{}
	for _, p := range LogProviders {
		want := s.ExpectedLogsOf(p.Name, []string{svc}, from, to)
		r := get(t, s, tok, logsPath, q(p.Name))
		if p.Scope == ScopeJAM {
			if r.status != 403 || !strings.Contains(string(r.body), "Missing scope "+ScopeJAM) {
				t.Errorf("%s without %s: %d %s", p.Name, ScopeJAM, r.status, r.body)
			}
			continue
		}
		if r.status != 200 || r.header.Get("x-total-count") != strconv.Itoa(len(want)) || len(want) == 0 {
			t.Errorf("%s: %d, total %s, want %d records", p.Name, r.status, r.header.Get("x-total-count"), len(want))
		}
		if other, ok := seen[want[0].ExceptionID]; ok {
			t.Errorf("%s serves the records of %s", p.Name, other)
		}
		seen[want[0].ExceptionID] = p.Name
	}
	if r := get(t, s, tok, logsPath, q("hm")); r.status != 400 || !strings.Contains(string(r.body), "exm.im, exm.jam, bsm, im, iep, jam.def, jam.run, jam.run_step") {
		t.Errorf("provider hm: %d %s", r.status, r.body)
	}
	noProvider := q("")
	noProvider.Del("provider")
	if r := get(t, s, tok, logsPath, noProvider); r.status != 428 || !strings.Contains(string(r.body), "provider") {
		t.Errorf("no provider: %d %s", r.status, r.body)
	}
}

func TestBehaviourLogsExmImOnly(t *testing.T) {
	b, err := ParseBehaviours("logs-exm-im-only")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := start(t, Config{Behaviours: b})
	ids := s.ServiceIDs()
	from, to := t0.Add(-time.Hour), t0
	if len(s.ExpectedLogsOf("exm.im", ids, from, to)) == 0 {
		t.Error("no exm.im records")
	}
	for _, p := range LogProviders[1:] {
		if n := len(s.ExpectedLogsOf(p.Name, ids, from, to)); n != 0 {
			t.Errorf("%s: %d records under logs-exm-im-only", p.Name, n)
		}
	}
}
