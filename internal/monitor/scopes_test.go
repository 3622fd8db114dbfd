package monitor

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// loadColumn reads the first column of a tab-separated fixture (comments and blanks skipped).
func loadColumn(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		first, _, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: line %q: want <name> TAB <what SAP says>", name, line)
		}
		out = append(out, first)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScopesAreSAPs holds every scope the table calls published to SAP Help's API Scopes page
// (testdata/sap_help_api_scopes.txt), and every other one to a reason.
func TestScopesAreSAPs(t *testing.T) {
	published := loadColumn(t, "testdata/sap_help_api_scopes.txt")
	for _, s := range []string{AnalyticsScope, IntegrationScope} {
		if !slices.Contains(published, s) {
			t.Errorf("scope %s is not on SAP's API Scopes page", s)
		}
	}
	for _, m := range All() {
		switch {
		case m.ScopeSource == SAPScopes && !slices.Contains(published, m.Scope):
			t.Errorf("%s: scope %s says SAP publishes it; SAP's API Scopes page does not list it", m.ID, m.Scope)
		case m.ScopeSource == SAPScopes && !m.ScopeConfirmed:
			t.Errorf("%s: scope %s is published but not confirmed: auto would never collect it", m.ID, m.Scope)
		case m.ScopeSource != SAPScopes && (m.ScopeConfirmed || !strings.HasPrefix(m.ScopeSource, unpublished)):
			t.Errorf("%s: scope %s with source %q: want SAPScopes, or unconfirmed with %q and why", m.ID, m.Scope, m.ScopeSource, unpublished)
		}
	}
	if m, _ := Lookup("cpi"); m.Scope != "calm-api.integration-monitoring.read" {
		t.Errorf("cpi scope %s, want calm-api.integration-monitoring.read (SAP does not list calm-api.imm.read)", m.Scope)
	}
}

// TestEveryLogsProviderIsAMonitor: one logs monitor per log provider of SAP Help's list, no
// other, and exm.im keeps the id "logs" (existing checkpoints stay valid).
func TestEveryLogsProviderIsAMonitor(t *testing.T) {
	checkProviders(t, Logs, sapLogs, "testdata/sap_help_logs_providers.txt")
	if m, _ := Lookup("logs"); m.LogsProvider != "exm.im" {
		t.Errorf("monitor logs reads provider %q, want exm.im", m.LogsProvider)
	}
}

// checkProviders holds the providers of the monitors of api, in table order, to the fixture's
// list, and their Source to source.
func checkProviders(t *testing.T, api API, source, fixture string) {
	t.Helper()
	providers := loadColumn(t, fixture)
	var got []string
	for _, m := range All() {
		if m.API != api {
			continue
		}
		if m.Source != source {
			t.Errorf("%s: Source %q, want %q", m.ID, m.Source, source)
		}
		got = append(got, m.LogsProvider)
	}
	if !slices.Equal(got, providers) {
		t.Errorf("%s monitors read providers %v, SAP lists %v", api, got, providers)
	}
}

// TestTracesProvidersAreSAPs: the traces monitors read the providers SAP Help's Raw Data
// Outbound Traces API page lists (testdata/sap_help_traces_providers.txt), each once.
func TestTracesProvidersAreSAPs(t *testing.T) {
	checkProviders(t, Traces, sapTraces, "testdata/sap_help_traces_providers.txt")
}

func TestNeedsScopes(t *testing.T) {
	for id, want := range map[string][]string{
		"hm":   {"calm-api.hm.read", MetricsScope},
		"bpm":  {"calm-api.bm.read", AnalyticsScope},
		"logs": {"calm-api.exm.read"},
	} {
		m, _ := Lookup(id)
		if got := m.NeedsScopes(); !slices.Equal(got, want) {
			t.Errorf("%s NeedsScopes = %v, want %v", id, got, want)
		}
	}
}
