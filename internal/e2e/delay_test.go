package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// TestAPIShapeSaysTheDelayCollectionLearned: scheduled runs against a tenant whose buckets fill
// late learn the delay into their state, and the connection test's api-shape reads it from
// there (calmctl test --state, the console); before any collection it says none was seen.
func TestAPIShapeSaysTheDelayCollectionLearned(t *testing.T) {
	b, err := sim.ParseBehaviours("late-buckets")
	if err != nil {
		t.Fatal(err)
	}
	e := newBehaviourEnv(t, b)
	shape := func() string {
		t.Helper()
		r := conntest.Run(context.Background(), e.sim.ConnectorJSON(), conntest.Options{Monitors: []string{"hm"}, Now: e.clock.Now,
			UsualDelay: func(ctx context.Context, tenant string) (time.Duration, bool, error) {
				return collect.UsualDelay(ctx, e.store, tenant)
			}})
		chk, ok := r.Check("api-shape")
		if !ok {
			t.Fatalf("no api-shape check: %+v", r.Checks)
		}
		return chk.Detail
	}
	if d := shape(); !strings.Contains(d, "late data: none seen by collection yet") {
		t.Errorf("before any collection, api-shape says %q", d)
	}
	for range 4 {
		e.run(collect.Request{})
		e.clock.Advance(5 * time.Minute)
	}
	learned, ok, err := collect.UsualDelay(context.Background(), e.store, behaviourTenant)
	if err != nil || !ok || learned <= 0 {
		t.Fatalf("collection learned no delay: %s %v %v", learned, ok, err)
	}
	if d, want := shape(), "late data: up to "+learned.String()+" after a bucket closed"; !strings.Contains(d, want) {
		t.Errorf("api-shape says %q, want %q", d, want)
	}
}
