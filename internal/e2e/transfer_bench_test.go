package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
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
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := sim.New(sim.Config{Now: clock, Services: services, NoBinary: noBinary, NoGzip: noGzip})
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	settings, _, err := calm.ParseSettings(s.ConnectorJSON())
	if err != nil {
		b.Fatal(err)
	}
	c, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{Transport: collect.Transport(nil)}})
	if err != nil {
		b.Fatal(err)
	}
	store, err := state.NewFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	r := &collect.Runner{Config: collect.DefaultConfig(), Tenant: settings.Name, Client: c, Scopes: c.Tokens(),
		Store: store, Sinks: []collect.Sink{sink.NewWriter("count", &countingWriter{})}, Owner: "bench", Now: clock}
	if sum := r.Run(context.Background(), collect.Request{}); !sum.OK {
		b.Fatalf("catch-up run failed: %+v", sum)
	}
	var wire, decoded, served, points int64
	b.ResetTimer()
	for b.Loop() {
		mu.Lock()
		now = now.Add(5 * time.Minute)
		mu.Unlock()
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
