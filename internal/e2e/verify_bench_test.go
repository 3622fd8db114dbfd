package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// BenchmarkVerifyCost is what verifying every window and re-checking the settle horizon for late
// data cost a scheduled run (docs/design.md §7), at the default schedule (5-minute windows, a
// run every 5 minutes, settle 30m) on landscapes of 240 and 1,000 services served in
// protobuf-binary with gzip: the run without the re-check (settle=off: the requests of a run
// before it), with it, and with it against a tenant whose buckets come 7 minutes late (every
// run then finds the newest window of the run before grown and reads it again). It reports
// requests and API bytes on the wire per run and the share of the 24 GB monthly quota that
// 8,640 such runs take. Run it with -benchtime 6x, a horizon's worth of runs: the logs monitors
// are re-checked once per horizon (settle.go), in one run of every six.
func BenchmarkVerifyCost(b *testing.B) {
	for _, services := range []int{240, 1000} {
		for _, v := range []struct {
			name   string
			settle time.Duration
			late   bool
		}{{"settle=off", 0, false}, {"settle=30m", collect.DefaultSettle, false}, {"settle=30m/late-buckets", collect.DefaultSettle, true}} {
			b.Run(fmt.Sprintf("services=%d/%s", services, v.name), func(b *testing.B) {
				cfg := sim.Config{Services: services}
				if v.late {
					cfg.Behaviours, _ = sim.ParseBehaviours("late-buckets")
				}
				s, r, clock := caughtUp(b, cfg)
				r.Config.Settle = v.settle
				var wire, reqs, late int64
				b.ResetTimer()
				for b.Loop() {
					clock.Advance(5 * time.Minute)
					before := s.BytesServed()
					sum := r.Run(context.Background(), collect.Request{})
					if !sum.OK {
						b.Fatalf("run failed: %+v", sum)
					}
					wire += s.BytesServed() - before
					for _, m := range sum.Monitors {
						reqs += m.Requests
						late += int64(m.Late)
					}
				}
				b.StopTimer()
				n := float64(b.N)
				const runsPerMonth = 8640
				b.ReportMetric(float64(reqs)/n, "requests/run")
				b.ReportMetric(float64(wire)/n, "wire-bytes/run")
				b.ReportMetric(float64(late)/n, "late-points/run")
				b.ReportMetric(float64(wire)/n*runsPerMonth/24e9*100, "%-of-24GB-quota")
			})
		}
	}
}
