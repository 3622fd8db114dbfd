package console

import (
	"cmp"
	"slices"
	"strings"

	"github.com/calm-collector/calm-collector/internal/monitor"
)

// groupOrder is the order of the status view's groups: the monitor table's API kinds, with the
// Integration Monitoring providers (metrics read with the integration scope) apart. A kind the
// table gains later that is not listed here follows them, in name order.
var groupOrder = []string{"metrics", "integration", "events", "logs", "traces", "analytics"}

// groupTitles are the groups' headings.
var groupTitles = map[string]string{
	"metrics": "Metrics", "integration": "Integration Monitoring", "events": "Events", "logs": "Logs",
	"traces": "Traces", "analytics": "Analytics",
}

// monitorPlace is where a monitor goes in the status view: its group, whether it is a core
// monitor (scope confirmed: collected by auto), its place in the table, and its title.
type monitorPlace struct {
	Group, GroupTitle, Title string
	Core                     bool
	Index                    int
}

// placeOf looks a monitor up in the monitor table tab (the built-in one with the monitors given
// as data); one the table does not know (an old record) goes last under its id.
func placeOf(tab monitor.Table, id string) monitorPlace {
	m, ok := tab.Lookup(id)
	if !ok {
		return monitorPlace{Group: "other", GroupTitle: "Other", Title: id, Index: len(tab.IDs())}
	}
	g := string(m.API)
	if m.API == monitor.Metrics && m.Scope == monitor.IntegrationScope {
		g = "integration"
	}
	title, ok := groupTitles[g]
	if !ok {
		title = strings.ToUpper(g[:1]) + g[1:]
	}
	return monitorPlace{Group: g, GroupTitle: title, Title: m.Title, Core: m.ScopeConfirmed, Index: slices.Index(tab.IDs(), id)}
}

// groupRank orders groups: groupOrder first, then others by name, "other" last.
func groupRank(g string) (int, string) {
	if i := slices.Index(groupOrder, g); i >= 0 {
		return i, ""
	}
	if g == "other" {
		return len(groupOrder) + 1, ""
	}
	return len(groupOrder), g
}

// compareRows orders the status rows: by tenant, then group, core monitors first, then the
// monitor table's order.
func compareRows(a, b statusRow) int {
	ga, na := groupRank(a.Place.Group)
	gb, nb := groupRank(b.Place.Group)
	coreFirst := func(p monitorPlace) int {
		if p.Core {
			return 0
		}
		return 1
	}
	return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(ga, gb), cmp.Compare(na, nb),
		cmp.Compare(coreFirst(a.Place), coreFirst(b.Place)), cmp.Compare(a.Place.Index, b.Place.Index),
		cmp.Compare(a.Monitor, b.Monitor))
}

// NewGroup reports whether row i starts a group (or a tenant) in rows, for the heading.
func (sv statusView) NewGroup(i int) bool {
	return i == 0 || sv.Rows[i].Tenant != sv.Rows[i-1].Tenant || sv.Rows[i].Place.Group != sv.Rows[i-1].Place.Group
}
