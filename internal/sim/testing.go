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
