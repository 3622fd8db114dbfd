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
	services, stop := t.discover(ctx, m, "traces")
	if stop != nil {
		return *stop
	}
	s := services[0]
	from, to := t.lastWindow()
	window := windowText(from, to)
	detail := fmt.Sprintf("no spans of %s in %s (the API answered)", s.Name, window)
	spans := 0
	for page, err := range t.client.Traces(ctx, calm.TracesQuery{Provider: m.LogsProvider, ServiceID: s.ID, From: from, To: to, PageSize: 1}) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		spans = max(page.Total, page.Spans)
		detail = fmt.Sprintf("%d spans of %s in %s", spans, s.Name, window)
		break
	}
	t.served = append(t.served, served{m: m, services: len(services), service: s, from: from, to: to, records: spans})
	if t.tokens != nil && !t.tokens.HasScope(rumPersonalScope) {
		detail += fmt.Sprintf("; user names come anonymised (add the authority %s for names, where your data protection rules allow it)",
			authority(rumPersonalScope))
	}
	return Check{Status: Pass, Detail: detail}
}
