package collect

import (
	"context"
	"strings"
	"testing"
)

func TestAPIHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://T1.EU10.alm.cloud.sap":       "https://t1.eu10.alm.cloud.sap",
		"https://t1.eu10.alm.cloud.sap.":      "https://t1.eu10.alm.cloud.sap",
		"http://127.0.0.1:8787":               "http://127.0.0.1:8787",
		"https://t1.eu10.alm.cloud.sap:443/x": "https://t1.eu10.alm.cloud.sap:443",
		"not a url":                           "",
	} {
		if got := APIHost(in); got != want {
			t.Errorf("APIHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// Two connectors with the same name but different API hosts: the second is refused with a
// message naming both hosts, and the first one's checkpoint is left as it was.
func TestTenantOfAnotherHostRefused(t *testing.T) {
	e := newEnv(t, "hm", "status")
	ctx := context.Background()
	e.r.Host = "https://prod.eu10.alm.cloud.sap"
	if s := e.r.Run(ctx, Request{}); !s.OK {
		t.Fatalf("first connector: %+v", s)
	}
	before, ok, _ := e.store.Get(ctx, e.r.Tenant, "hm")
	if !ok || before.Host != e.r.Host {
		t.Fatalf("checkpoint %+v does not record the host %s", before, e.r.Host)
	}
	delivered := len(records(e.sink, ""))

	e.r.Host = "https://test.eu10.alm.cloud.sap"
	s := e.r.Run(ctx, Request{})
	if s.OK || len(s.Monitors) != 2 {
		t.Fatalf("second connector ran: %+v", s)
	}
	for _, m := range s.Monitors {
		if !strings.Contains(m.Error, `tenant "sim": its state was written for the API host https://prod.eu10.alm.cloud.sap, `+
			`but this connector points at https://test.eu10.alm.cloud.sap`) || m.Windows != 0 {
			t.Errorf("%s: %+v, want a refusal naming both hosts", m.Monitor, m)
		}
	}
	after, _, _ := e.store.Get(ctx, e.r.Tenant, "hm")
	if after != before {
		t.Errorf("checkpoint changed by the refused connector:\n got %+v\nwant %+v", after, before)
	}
	if n := len(records(e.sink, "")); n != delivered {
		t.Errorf("the refused connector delivered %d records", n-delivered)
	}
}

// State written before hosts were recorded is adopted by the connector that finds it.
func TestTenantStateWithoutHostAdopted(t *testing.T) {
	e := newEnv(t, "hm")
	ctx := context.Background()
	if s := e.r.Run(ctx, Request{}); !s.OK {
		t.Fatalf("run without a host: %+v", s)
	}
	e.r.Host = "https://prod.eu10.alm.cloud.sap"
	if s := e.r.Run(ctx, Request{}); !s.OK {
		t.Fatalf("run with a host on state without one: %+v", s)
	}
	if cp, _, _ := e.store.Get(ctx, e.r.Tenant, "hm"); cp.Host != e.r.Host {
		t.Errorf("checkpoint host %q, want %q", cp.Host, e.r.Host)
	}
}
