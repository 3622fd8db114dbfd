package collect

import (
	"context"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

// tenantShapes are the tenant behaviours of how a window, a point's time and a list of
// services are read, each with what collection must learn of it.
var tenantShapes = []struct {
	name  string
	b     sim.Behaviours
	check func(t *testing.T, f state.Formats)
}{
	{"ignore-from-to", sim.Behaviours{IgnoreFromTo: true}, func(t *testing.T, f state.Formats) {
		if f.FromTo != FromToIgnored {
			t.Errorf("formats %+v: from/to not learned as ignored", f)
		}
	}},
	{"end-stamps", sim.Behaviours{EndStamps: true}, func(t *testing.T, f state.Formats) {
		if f.Stamping != StampEnd || f.FromTo != FromToHonoured {
			t.Errorf("formats %+v: want end stamps and from/to honoured", f)
		}
	}},
	{"no-service-list", sim.Behaviours{NoServiceList: true}, func(t *testing.T, f state.Formats) {
		if f.ServiceList != ListRepeat || f.Stamping != StampStart {
			t.Errorf("formats %+v: want repeated serviceId and start stamps", f)
		}
	}},
	{"rum-service-limit", sim.Behaviours{RUMServiceLimit: true}, func(t *testing.T, f state.Formats) {
		if f.ServiceList != ListComma {
			t.Errorf("formats %+v: want comma lists", f)
		}
	}},
	{"default", sim.Behaviours{}, func(t *testing.T, f state.Formats) {
		if f.ServiceList != ListComma || f.Stamping != StampStart || f.FromTo != FromToHonoured {
			t.Errorf("formats %+v: want comma lists, start stamps, from/to honoured", f)
		}
	}},
}

// Two scheduled runs against each shape deliver every point exactly once, learn the shape
// once and remember it; the second run asks no more than a tenant of the usual shape needs.
func TestScheduledRunsAreExactWhateverTheTenantsShape(t *testing.T) {
	for _, ts_ := range tenantShapes {
		t.Run(ts_.name, func(t *testing.T) {
			e := newEnvWith(t, sim.Config{Behaviours: ts_.b}, "hm", "rum")
			mustOK(t, e.r.Run(context.Background(), Request{}))
			e.clock.Advance(23 * time.Minute)
			s2 := e.r.Run(context.Background(), Request{})
			mustOK(t, s2)
			for _, m := range []string{"hm", "rum"} {
				e.checkExactlyOnce(t, m, ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:25:00Z"))
			}
			f, _, err := e.store.Formats(context.Background(), e.r.Tenant)
			if err != nil {
				t.Fatal(err)
			}
			ts_.check(t, f)
			// Learned once: the second run reads hm with one request, rum with a discovery call
			// and one batch of its services (at most 5 of them); each then re-checks the settle
			// horizon for late data with one count (rum: a discovery call and a count per batch),
			// unless it reads by period, which cannot count a range.
			checks := int64(1)
			if f.FromTo == FromToIgnored {
				checks = 0
			}
			if got := s2.Monitors[0].Requests; got != 1+checks {
				t.Errorf("hm made %d requests in the second run, want %d", got, 1+checks)
			}
			if got, want := s2.Monitors[1].Requests, (1+checks)*int64(1+(len(e.sim.ServiceIDs())+4)/5); got != want {
				t.Errorf("rum made %d requests in the second run, want %d", got, want)
			}
		})
	}
}

// A backfill of an hour three hours ago is exact against each shape: a tenant that ignores
// from/to is read by a period reaching back to it.
func TestOldBackfillIsExactWhateverTheTenantsShape(t *testing.T) {
	for _, ts_ := range tenantShapes {
		t.Run(ts_.name, func(t *testing.T) {
			e := newEnvWith(t, sim.Config{Behaviours: ts_.b}, "hm", "rum")
			rng := Range{From: ts("2026-11-25T06:00:00Z"), To: ts("2026-11-25T07:00:00Z")}
			s := e.r.Run(context.Background(), Request{Backfill: &rng})
			mustOK(t, s)
			for _, m := range []string{"hm", "rum"} {
				e.checkExactlyOnce(t, m, rng.From, rng.To)
			}
		})
	}
}
