package conntest

import (
	"context"
	"fmt"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// rumPersonalScope lets the traces API serve Real User Monitoring's user names; without it
// they come anonymised (SAP's RUM setup; docs/cloud-alm-api.md, "Traces").
const rumPersonalScope = "calm-api.rum.personal.read"

// probeTraces asks the traces API for the last window of the first service the monitor's
// provider lists, as collection does (one service a request), and says whether user names
// come in clear or anonymised.
func (t *tester) probeTraces(ctx context.Context, m monitor.Monitor) Check {
	services, err := t.client.Services(ctx, m.Provider)
	if err != nil {
		return t.apiFailure(err, monitor.AnalyticsScope, "monitor "+m.ID+" service discovery")
	}
	if len(services) == 0 {
		return Check{Status: Pass, Detail: fmt.Sprintf("no services listed by %s: no traces to probe", m.Provider)}
	}
	to := t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	from := to.Add(-probeResolution)
	window := from.Format("2006-01-02 15:04") + "–" + to.Format("15:04") + " UTC"
	s := services[0]
	detail := fmt.Sprintf("no spans of %s in %s (the API answered)", s.Name, window)
	for page, err := range t.client.Traces(ctx, calm.TracesQuery{Provider: m.LogsProvider, ServiceID: s.ID, From: from, To: to, PageSize: 1}) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		detail = fmt.Sprintf("%d spans of %s in %s", max(page.Total, page.Spans), s.Name, window)
		break
	}
	if t.tokens != nil && !t.tokens.HasScope(rumPersonalScope) {
		detail += fmt.Sprintf("; user names come anonymised (add the authority %s for names, where your data protection rules allow it)",
			authority(rumPersonalScope))
	}
	return Check{Status: Pass, Detail: detail}
}
