package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// Status events read page by page are exactly the simulator's (each once, none missing) against
// both readings: the strict one caps their pages below the asked limit and answers 200 with an
// error body now and then.
func TestStatusEventsAreExactAgainstBothSimulators(t *testing.T) {
	for _, v := range sim.Readings() {
		t.Run(v.Name, func(t *testing.T) {
			s := sim.StartTest(t, v.With(sim.Config{Services: 20, Now: func() time.Time { return t0 }}))
			settings, _, err := calm.ParseSettings(s.ConnectorJSON())
			if err != nil {
				t.Fatal(err)
			}
			c, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{Timeout: 10 * time.Second},
				Logger: slog.New(slog.DiscardHandler), PageSize: 40, MaxRetries: 2, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			want := map[string]int{}
			for _, e := range s.ExpectedEvents(t0.Add(-24*time.Hour), t0) {
				want[e.EventID]++
			}
			got := map[string]int{}
			for e, err := range c.StatusEvents(ctx, calm.EventsQuery{From: t0.Add(-24 * time.Hour), To: t0}) {
				if err != nil {
					t.Fatalf("status events: %v", err)
				}
				got[e.EventID]++
			}
			sameOnce(t, "status events", got, want)

			// The strict reading is exercised: error bodies were retried.
			if st := c.Stats(); v.Config.Strict && st.Retries == 0 {
				t.Errorf("no retry against the strict simulator (%+v): no error body was met, the test proves less than it says", st)
			}
		})
	}
}

// sameOnce fails unless got holds every key of want exactly once and nothing else; want must
// be more than a page of the strict simulator, or the test proves nothing about paging.
func sameOnce(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if len(want) <= 25 {
		t.Fatalf("%s: the simulator serves only %d: fewer than a strict page", what, len(want))
	}
	for k, n := range want {
		if n != 1 {
			t.Fatalf("%s: the simulator serves %s %d times: keys are not unique", what, k, n)
		}
		if got[k] != 1 {
			t.Errorf("%s: %s read %d times, want once", what, k, got[k])
		}
	}
	for k := range got {
		if want[k] == 0 {
			t.Errorf("%s: %s is not the simulator's", what, k)
		}
	}
}
