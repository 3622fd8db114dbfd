package collect

import (
	"context"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/state"
)

// The suite must pass on any date: no component may compare the run's clock with the wall clock.
// These runs put the run's clock (and the simulator's) a year before and a year after the wall
// clock, with both stores, and check what a date-dependent component would break first: every
// point once, checkpoints where the run's clock puts them, and status events not emitted again
// while their marks hold.
func TestRunsAYearFromTheWallClockAreExact(t *testing.T) {
	wall := time.Now().UTC().Truncate(time.Hour).Add(7 * time.Minute)
	stores := map[string]func(t *testing.T) state.Store{
		"file": func(t *testing.T) state.Store {
			s, err := state.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"dynamodb": func(t *testing.T) state.Store {
			m := awstest.Moto(t)
			m.Reset(t)
			ctx := context.Background()
			if err := state.CreateTable(ctx, m.DynamoClient(), "state"); err != nil {
				t.Fatal(err)
			}
			cfg := m.AWSConfig(ctx)
			s, err := state.Open(ctx, "dynamodb://state", &cfg)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for _, shift := range []time.Duration{-365 * 24 * time.Hour, 365 * 24 * time.Hour} {
		for name, open := range stores {
			t.Run(name+"/"+shift.String(), func(t *testing.T) {
				ctx := context.Background()
				e := newEnv(t, "hm", "status")
				e.r.Store = open(t)
				start := wall.Add(shift)
				e.clock.Set(start)
				mustOK(t, e.r.Run(ctx, Request{}))
				events := len(records(e.sink, "status"))
				if events == 0 {
					t.Fatal("the first run emitted no status event")
				}
				// Same clock: the same events, all marked, so none comes again.
				mustOK(t, e.r.Run(ctx, Request{}))
				if n := len(records(e.sink, "status")) - events; n != 0 {
					t.Errorf("an unchanged second run emitted %d status events again", n)
				}
				e.clock.Advance(23 * time.Minute)
				mustOK(t, e.r.Run(ctx, Request{}))
				// Default config: one hour of lookback before the first window, 2 min lag, 5 min windows.
				from := floor(start.Add(-DefaultConfig().Lag), 5*time.Minute).Add(-DefaultConfig().Lookback)
				to := floor(start.Add(23*time.Minute-DefaultConfig().Lag), 5*time.Minute)
				want := e.expectedIDs("hm", from, to)
				got := map[string]bool{}
				for _, r := range records(e.sink, "hm") {
					if got[r.ID] {
						t.Errorf("hm record %s delivered twice", r.ID)
					}
					got[r.ID] = true
					if !want[r.ID] {
						t.Errorf("hm record %s at %s is not a point of the simulator in [%s, %s)", r.ID, r.Time, from, to)
					}
				}
				if len(want) == 0 || len(got) != len(want) {
					t.Errorf("hm: delivered %d points, the simulator holds %d in [%s, %s)", len(got), len(want), from, to)
				}
				cp, ok, err := e.r.Store.Get(ctx, e.r.Tenant, "hm")
				if err != nil || !ok || !cp.Next.Equal(to) {
					t.Errorf("hm checkpoint = %+v %v %v, want next %s", cp, ok, err, to)
				}
			})
		}
	}
}
