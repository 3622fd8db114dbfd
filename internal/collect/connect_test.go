package collect

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/sim"
)

// Connect names the tenant after the connector only when the secret has no name of its own, and
// the runner it feeds collects under that tenant.
func TestConnectNamesTheTenant(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }})
	quiet := ClientOptions{Logger: slog.New(slog.DiscardHandler)}

	c, err := Connect(srv.ServiceKeyJSON(), "prod-eu10", quiet)
	if err != nil {
		t.Fatal(err)
	}
	if c.Settings().Name != "prod-eu10" {
		t.Errorf("service key without a name: tenant %q; want the connector's name prod-eu10", c.Settings().Name)
	}
	r := (&Runner{Config: DefaultConfig()}).For(c)
	if r.Tenant != "prod-eu10" || r.Client != c {
		t.Errorf("runner tenant %q, client %p; want prod-eu10, %p", r.Tenant, r.Client, c)
	}
	if _, err := c.Tokens().Token(context.Background()); err != nil {
		t.Errorf("the client's token source does not work against the simulator: %v", err)
	}

	c, err = Connect(srv.ConnectorJSON(), "prod-eu10", quiet)
	if err != nil {
		t.Fatal(err)
	}
	if c.Settings().Name != "sim" {
		t.Errorf("connector fields with a name: tenant %q; want the secret's own name sim", c.Settings().Name)
	}

	_, err = Connect([]byte(`{"clientId":"x","clientSecret":"hunter2"}`), "", quiet)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad secret: err = %v; want an error without the secret's value", err)
	}
}
