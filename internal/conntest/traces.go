package conntest

import (
	"context"
	"fmt"
	"time"

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
	services, w, stop := t.probeService(ctx, m, "traces")
	if stop != nil {
		if len(services) == 0 && stop.Status == Pass {
			t.served = append(t.served, served{m: m})
		}
		return *stop
	}
	s := services[0]
	detail := fmt.Sprintf("no spans of %s in %s (the API answered)", s.Name, w.text)
	spans := 0
	for page, err := range t.client.Traces(ctx, calm.TracesQuery{Provider: m.LogsProvider, ServiceID: s.ID, From: w.From, To: w.To, PageSize: 1}) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		spans = max(page.Total, page.Spans)
		detail = fmt.Sprintf("%d spans of %s in %s", spans, s.Name, w.text)
		break
	}
	t.served = append(t.served, served{m: m, services: len(services), service: s, from: w.From, to: w.To, records: spans})
	if t.tokens != nil && !t.tokens.HasScope(rumPersonalScope) {
		detail += fmt.Sprintf("; user names come anonymised (add the authority %s for names, where your data protection rules allow it)",
			authority(rumPersonalScope))
	}
	return Check{Status: Pass, Detail: detail}
}

// probeWindow is the last window a probe asks for, as the collector's defaults would collect it.
type probeWindow struct {
	From, To time.Time
	text     string
}

// probeService lists the services of the monitor's discovery provider (the probe asks the
// first) and gives the probe window, for an API that wants one service a request; stop is the
// check to report instead when discovery fails or lists no service (what names what was not
// probed).
func (t *tester) probeService(ctx context.Context, m monitor.Monitor, what string) ([]calm.Service, probeWindow, *Check) {
	services, err := t.client.Services(ctx, m.Provider)
	if err != nil {
		c := t.apiFailure(err, monitor.AnalyticsScope, "monitor "+m.ID+" service discovery")
		return nil, probeWindow{}, &c
	}
	if len(services) == 0 {
		return nil, probeWindow{}, &Check{Status: Pass, Detail: fmt.Sprintf("no services listed by %s: no %s to probe", m.Provider, what)}
	}
	to := t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	from := to.Add(-probeResolution)
	return services, probeWindow{From: from, To: to, text: from.Format("2006-01-02 15:04") + "–" + to.Format("15:04") + " UTC"}, nil
}
