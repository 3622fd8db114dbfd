package analytics

// Panel is one log-query widget of the "Cloud ALM" data dashboard: a Logs Insights query over the
// collect function's log group (the records it logs), no custom metric per service.
type Panel struct {
	Title    string
	Insights string
	View     string // "table", "line" or "bar"
}

// Panels are the data dashboard's widgets, in order.
var Panels = []Panel{
	{
		Title: "Health ratings by service (latest rating per metric)",
		Insights: `filter monitor = "hm" and name in ["okStatus", "warningStatus", "criticalStatus"] and value > 0
| stats latest(name) as rating, latest(time) as at by tenant, attributes.serviceName as service, attributes.metricName as metric
| sort rating asc, service asc`,
		View: "table",
	},
	{
		Title: "Exceptions per hour",
		Insights: `filter monitor = "exm" and name = "counter"
| stats sum(value) as exceptions by bin(1h)`,
		View: "line",
	},
	{
		Title: "Job runtimes (s)",
		Insights: `filter monitor = "jam" and name = "runTime"
| stats count(*) as runs, avg(value) as avg_s, max(value) as max_s by tenant, attributes.serviceName as service, attributes.jobName as job
| sort max_s desc`,
		View: "table",
	},
	{
		Title: "Open status events",
		Insights: `filter monitor = "status" and kind = "event"
| stats latest(attributes.eventStatus) as status, latest(attributes.eventType) as event_type, earliest(time) as started
  by tenant, attributes.eventId as event_id, attributes.serviceName as service
| filter status not in ["Resolved", "Closed"]
| sort started desc`,
		View: "table",
	},
	{
		Title: "Slowest user requests (RUM traces, p95 ms)",
		Insights: `filter monitor = "traces" and kind = "span" and not ispresent(attributes.parentSpanId)
| stats count(*) as requests, pct(value, 95) as p95_ms by tenant, attributes.serviceName as service, name as request
| sort p95_ms desc
| limit 20`,
		View: "table",
	},
}
