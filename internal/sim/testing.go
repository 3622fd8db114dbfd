package sim

import "testing"

// StartTest starts a simulator on 127.0.0.1 with a free port and stops it when the test ends.
func StartTest(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("start simulator: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Reading is one way a tenant may answer where SAP's material allows two, as a simulator setup.
type Reading struct {
	Name   string // "default" or "strict": the subtest name
	Config Config
}

// Readings are the tenants the end-to-end suites run against (table-driven, one subtest each):
//
//   - default: the simulator's reading, serving protobuf-binary with gzip;
//   - strict: the other reading (strict.go), refusing protobuf-binary with 400 and answering
//     uncompressed, so the collector's protobuf-json fallback is exact under it too.
//
// Every suite is thus exact on both formats, compressed and not, and under both readings.
func Readings() []Reading {
	return []Reading{
		{Name: "default", Config: Config{}},
		{Name: "strict", Config: Config{Strict: true, NoBinary: true, NoGzip: true}},
	}
}

// With returns the reading's Config with the fields of base that the reading leaves unset
// (clock, services, secrets, scopes, logger).
func (r Reading) With(base Config) Config {
	base.Strict, base.NoBinary, base.NoGzip = r.Config.Strict, r.Config.NoBinary, r.Config.NoGzip
	return base
}
