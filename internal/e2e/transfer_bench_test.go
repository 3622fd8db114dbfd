package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// transferVariants are the four ways a tenant can serve the metrics API: protobuf-json or
// protobuf-binary, gzip'd or not.
var transferVariants = []struct {
	name             string
	noBinary, noGzip bool
}{
	{"json", true, true}, {"json+gzip", true, false}, {"binary", false, true}, {"binary+gzip", false, false},
}

// BenchmarkTransfer is the scheduled run of the default configuration (every monitor "auto"
// selects, 5-minute windows, one run every 5 minutes) on landscapes of 10, 240 and 1,000
// services, against a tenant serving each of the four formats. After a first run has caught
// up, each iteration is one scheduled run; it reports the API bytes a run fetches on the
// wire and decoded, bytes per data point, and the share of the 24 GB monthly fair-use quota
// that 8640 such runs take (docs/transfer.md).
func BenchmarkTransfer(b *testing.B) {
	for _, services := range []int{10, 240, 1000} {
		for _, v := range transferVariants {
			b.Run(fmt.Sprintf("services=%d/%s", services, v.name), func(b *testing.B) {
				benchTransfer(b, services, v.noBinary, v.noGzip)
			})
		}
	}
}

func benchTransfer(b *testing.B, services int, noBinary, noGzip bool) {
	s, r, clock := caughtUp(b, sim.Config{Services: services, NoBinary: noBinary, NoGzip: noGzip})
	var wire, decoded, served, points int64
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(5 * time.Minute)
		before := s.BytesServed()
		sum := r.Run(context.Background(), collect.Request{})
		if !sum.OK {
			b.Fatalf("run failed: %+v", sum)
		}
		served += s.BytesServed() - before
		wire += sum.APIBytes
		decoded += sum.APIBytesDecoded
		for _, m := range sum.Monitors {
			points += int64(m.Points)
		}
	}
	b.StopTimer()
	if served != wire {
		b.Fatalf("the simulator served %d bytes, the collector counted %d on the wire", served, wire)
	}
	n := float64(b.N)
	const runsPerMonth = 8640 // every 5 minutes, 30 days
	b.ReportMetric(float64(wire)/n, "wire-bytes/run")
	b.ReportMetric(float64(decoded)/n, "decoded-bytes/run")
	b.ReportMetric(float64(wire)/float64(max(points, 1)), "wire-bytes/point")
	b.ReportMetric(float64(points)/n, "points/run")
	b.ReportMetric(float64(wire)/n*runsPerMonth/24e9*100, "%-of-24GB-quota")
}
