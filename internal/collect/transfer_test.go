package collect

import (
	"context"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

// TestEveryFormatAndEncodingDeliversExactly: on a tenant that serves protobuf-binary or
// refuses it, with gzip or without, two scheduled runs deliver every point exactly once; the
// bytes are counted (fewer on the wire than decoded when gzip is served), and a refusal of
// binary is remembered in the state store so that the second run asks for JSON only.
func TestEveryFormatAndEncodingDeliversExactly(t *testing.T) {
	monitors := []string{"hm", "jam", "cpi"}
	for _, v := range []struct {
		name string
		cfg  sim.Config
	}{
		{"binary+gzip", sim.Config{}},
		{"binary", sim.Config{NoGzip: true}},
		{"json+gzip", sim.Config{NoBinary: true}},
		{"json", sim.Config{NoBinary: true, NoGzip: true}},
	} {
		t.Run(v.name, func(t *testing.T) {
			e := newEnvWith(t, v.cfg, monitors...)
			s1 := e.r.Run(context.Background(), Request{})
			mustOK(t, s1)
			f, ok, err := e.store.Formats(context.Background(), e.r.Tenant)
			switch {
			case err != nil || !ok:
				t.Fatalf("formats after run 1: ok %v err %v; want stored", ok, err)
			case v.cfg.NoBinary && !f.BinaryRefusedAt.Equal(t0):
				t.Errorf("binary refused at %s, want the run's time %s", f.BinaryRefusedAt, t0)
			case !v.cfg.NoBinary && !f.BinaryRefusedAt.IsZero():
				t.Errorf("binary refused at %s on a tenant that serves it", f.BinaryRefusedAt)
			}
			// Run 2 with a new client (a cold Lambda): it learns the format from the store.
			fresh, err := calm.New(e.r.Client.(*calm.Client).Settings(), calm.Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			e.r.Client, e.r.Scopes = fresh, fresh.Tokens()
			e.clock.Advance(23 * time.Minute)
			s2 := e.r.Run(context.Background(), Request{})
			mustOK(t, s2)
			for i, m := range monitors {
				e.checkExactlyOnce(t, m, ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:25:00Z"))
				for _, s := range []Summary{s1, s2} {
					ms := s.Monitors[i]
					if ms.APIBytes <= 0 || ms.APIBytesDecoded < ms.APIBytes {
						t.Errorf("%s: api bytes %d wire, %d decoded", m, ms.APIBytes, ms.APIBytesDecoded)
					}
					if !v.cfg.NoGzip && ms.APIBytes*3 > ms.APIBytesDecoded {
						t.Errorf("%s: gzip served but %d bytes on the wire for %d decoded", m, ms.APIBytes, ms.APIBytesDecoded)
					}
					if v.cfg.NoGzip && ms.APIBytes != ms.APIBytesDecoded {
						t.Errorf("%s: no gzip but %d bytes on the wire for %d decoded", m, ms.APIBytes, ms.APIBytesDecoded)
					}
				}
			}
			if s2.APIBytes != s2.Monitors[0].APIBytes+s2.Monitors[1].APIBytes+s2.Monitors[2].APIBytes {
				t.Errorf("run api bytes %d is not the monitors' sum", s2.APIBytes)
			}
			// Run 2 on a tenant that refused binary asked for JSON only (no refusal seen again).
			if fresh.BinaryRefused() || fresh.Binary() == v.cfg.NoBinary || fresh.BinaryServed() == v.cfg.NoBinary {
				t.Errorf("run 2: refused %v, binary %v, served %v", fresh.BinaryRefused(), fresh.Binary(), fresh.BinaryServed())
			}
		})
	}
}

// TestBinaryIsTriedAgainAfterADay: a refusal older than BinaryRetryAfter no longer keeps the
// client on JSON, and binary served again clears it in the store.
func TestBinaryIsTriedAgainAfterADay(t *testing.T) {
	e := newEnv(t, "hm")
	old := state.Formats{Tenant: e.r.Tenant, BinaryRefusedAt: t0.Add(-BinaryRetryAfter - time.Minute)}
	if err := e.store.PutFormats(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	mustOK(t, e.r.Run(context.Background(), Request{}))
	c := e.r.Client.(*calm.Client)
	if !c.Binary() || !c.BinaryServed() {
		t.Errorf("binary %v served %v; want binary asked and served", c.Binary(), c.BinaryServed())
	}
	if f, ok, err := e.store.Formats(context.Background(), e.r.Tenant); err != nil || !ok || !f.BinaryRefusedAt.IsZero() {
		t.Errorf("formats after binary was served again: %+v ok %v err %v; want the refusal cleared", f, ok, err)
	}

	recent := newEnv(t, "hm")
	young := state.Formats{Tenant: recent.r.Tenant, BinaryRefusedAt: t0.Add(-time.Hour)}
	if err := recent.store.PutFormats(context.Background(), young); err != nil {
		t.Fatal(err)
	}
	mustOK(t, recent.r.Run(context.Background(), Request{}))
	if c := recent.r.Client.(*calm.Client); c.Binary() || c.BinaryServed() {
		t.Errorf("a refusal an hour old: binary %v served %v; want JSON only", c.Binary(), c.BinaryServed())
	}
}
