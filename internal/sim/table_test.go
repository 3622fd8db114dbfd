package sim

import (
	"slices"
	"testing"

	"github.com/calm-collector/calm-collector/internal/monitor"
)

// TestProvidersMatchTheMonitorTable: the simulator serves every metrics monitor of the one table
// (internal/monitor) with the same scope, dimensions and measures, and the table's counts as
// counts, so that a name the collector asks for and the simulator serves cannot drift apart.
func TestProvidersMatchTheMonitorTable(t *testing.T) {
	var ids []string
	for _, m := range monitor.All() {
		if !m.IsMetrics() {
			continue
		}
		ids = append(ids, m.ID)
		p := lookupProvider(m.ID)
		if p == nil {
			t.Errorf("%s: the simulator does not serve this monitor", m.ID)
			continue
		}
		if p.scope != m.Scope {
			t.Errorf("%s: simulator scope %s, table %s", m.ID, p.scope, m.Scope)
		}
		if got := slices.Sorted(slices.Values(p.dimensions())); !slices.Equal(got, slices.Sorted(slices.Values(m.Dimensions))) {
			t.Errorf("%s: simulator dimensions %v, table %v", m.ID, p.dimensions(), m.Dimensions)
		}
		var names []string
		for _, me := range p.measures {
			names = append(names, me.name)
		}
		if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(m.Measures))) {
			t.Errorf("%s: simulator measures %v, table %v", m.ID, names, m.Measures)
		}
		for _, c := range m.Counts {
			if i := p.measure(c); i >= 0 && p.measures[i].kind != count {
				t.Errorf("%s: %s is a count in the table, a gauge in the simulator", m.ID, c)
			}
		}
	}
	if !slices.Equal(ids, ProviderIDs()) {
		t.Errorf("simulator providers %v, table metrics monitors %v (same order)", ProviderIDs(), ids)
	}
}
