// Package monitor is the one table of Cloud ALM monitors: for each, its id, title, the scope it
// needs (and whether SAP has published that scope), the API it is read from, the analytics
// provider that lists its services, and the dimensions and measures asked for. The collector,
// the connection test, the OTLP mapping and the simulator's checks all read this table; nothing
// else may hold a copy. Where the names come from is recorded per monitor (Source): a test holds
// every name against the request lines of SAP's Postman collection copied into testdata/.
// docs/cloud-alm-api.md says what is confirmed by SAP's material and what is not.
package monitor

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// API is the Cloud ALM API a monitor is read from.
type API string

// The APIs the monitors use.
const (
	Metrics   API = "metrics"   // GET /api/calm-metrics/v1/metrics (raw data, OTLP metrics)
	Events    API = "events"    // GET /api/bsm-service/v1/events (status events, a JSON array)
	Logs      API = "logs"      // GET /api/calm-logs/v1/logs (raw data, OTLP logs)
	Traces    API = "traces"    // GET /api/calm-traces/v1/traces (raw data, OTLP traces)
	Analytics API = "analytics" // POST /api/calm-analytics/v1/analytics/providers/data (time_series)
)

// Scope suffixes besides the monitors' own. A granted scope reads `<xsappname>.calm-api.….read`
// and is matched on its `calm-api.…` suffix.
const (
	// MetricsScope is needed by every call to the metrics API, in addition to the monitor's scope.
	MetricsScope = "calm-api.metrics.read"
	// AnalyticsScope is needed by service discovery, the analytics providers list and every
	// analytics monitor, in addition to the monitor's scope.
	AnalyticsScope = "calm-api.analytics.read"
	// IntegrationScope is the scope of the Integration Monitoring providers.
	IntegrationScope = "calm-api.integration-monitoring.read"
)

// SAPScopes is the ScopeSource of a scope listed on SAP Help's "API Scopes" page (API Guide for
// SAP Cloud ALM); the lines a test holds the table to are copied into
// testdata/sap_help_api_scopes.txt.
const SAPScopes = "SAP Help: API Scopes"

// Monitor is one row of the table.
type Monitor struct {
	ID    string // the metrics API provider parameter and the monitor id, e.g. "hm"
	Title string
	// Scope is the calm-api scope suffix the monitor needs, e.g. "calm-api.hm.read".
	Scope string
	// ScopeConfirmed is false where SAP has not published the scope name: such a monitor is
	// collected only when named (never by "auto") and is not probed by default.
	ScopeConfirmed bool
	// ScopeSource is SAPScopes where SAP publishes Scope, or says "not published: …" and why
	// the name is used all the same.
	ScopeSource string
	API         API
	// Provider is the analytics provider whose serviceId filter lists the monitor's services
	// ("" when the monitor needs no service discovery).
	Provider string
	// LogsProvider is the logs or traces API's `provider` parameter (logs and traces monitors only).
	LogsProvider string
	// MaxServices is the API's limit on service ids per query (0: the query names no service).
	MaxServices int
	// Dimensions and Measures are asked for on every metrics call, in this order. Dimensions
	// left out would merge series.
	Dimensions []string
	Measures   []string
	// Counts are the measures that count things per bucket (exported as delta sums). Only sure
	// counts are listed: a gauge sent as a sum would be added up by the backend.
	Counts []string
	// DataProvider is the analytics provider an analytics monitor reads (KPI_HISTORY_TOTALS),
	// Version its version ("" sends none), Methods the aggregation method of a measure
	// (absent: the provider's own), Filters the filters sent with every query.
	DataProvider string
	Version      string
	Methods      map[string]string
	Filters      []Filter
	// Extra is true for a monitor given as data (Definition), not built in.
	Extra bool
	// Source names the request of SAP's Postman collection the names are taken from, or says
	// "not in SAP's material: …" where they come from elsewhere.
	Source string
}

// Filter is one filter of an analytics query: the dimension key and the values kept.
type Filter struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Methods are the aggregation methods an analytics measure may name (SAP's Grafana plugin).
var Methods = []string{"AVG", "MIN", "MAX", "SUM", "PERCENT"}

// NeedsScopes returns every scope the monitor needs: its own, and the API's (metrics and
// analytics calls need one each besides the monitor's).
func (m Monitor) NeedsScopes() []string {
	switch m.API {
	case Metrics:
		return []string{m.Scope, MetricsScope}
	case Analytics:
		return []string{m.Scope, AnalyticsScope}
	}
	return []string{m.Scope}
}

// IsMetrics reports whether the monitor is read from the metrics API (and so also needs
// MetricsScope).
func (m Monitor) IsMetrics() bool { return m.API == Metrics }

// Columns returns the metrics API's `dimensions` and `metrics` parameters of the monitor: its
// dimensions, and its measures as "measure:<name>". Every calm-metrics request sends both.
func (m Monitor) Columns() (dimensions, metrics []string) {
	for _, v := range m.Measures {
		metrics = append(metrics, "measure:"+v)
	}
	return slices.Clone(m.Dimensions), metrics
}

// IsCount reports whether the measure is one of the monitor's Counts.
func (m Monitor) IsCount(measure string) bool { return slices.Contains(m.Counts, measure) }

// notInSAP marks names taken from elsewhere than SAP's Postman collection.
const notInSAP = "not in SAP's material: "

// postman is the prefix of a Source that names a request of SAP's Postman collection.
const postman = "SAP Postman: "

// sapLogs is the Source of the logs monitors: SAP Help's "Raw Data Outbound Logs API" page lists
// the log providers (copied into testdata/sap_help_logs_providers.txt).
const sapLogs = "SAP Help: Raw Data Outbound Logs API"

// sapTraces is the Source of the traces monitor: SAP Help's "Raw Data Outbound Traces API" page
// lists its one provider (copied into testdata/sap_help_traces_providers.txt).
const sapTraces = "SAP Help: Raw Data Outbound Traces API"

// unpublished is the ScopeSource prefix of a scope SAP does not list.
const unpublished = "not published: "

func integration(id, title, request string, dims ...string) Monitor {
	return Monitor{ID: id, Title: "Integration Monitoring: " + title, Scope: IntegrationScope, ScopeConfirmed: true,
		ScopeSource: SAPScopes, API: Metrics,
		Dimensions: dims, Measures: []string{"Count"}, Counts: []string{"Count"},
		Source: postman + "Raw Data - Metrics/Outbound - IM - " + request}
}

// logsMonitor is the logs monitor of one SAP log provider. discovery is the analytics provider
// whose serviceId filter lists the services asked for (SAP's material names none: the one of
// the same use case is taken).
func logsMonitor(id, provider, title, scope, discovery string) Monitor {
	return Monitor{ID: id, Title: "Logs: " + title, Scope: scope, ScopeConfirmed: true, ScopeSource: SAPScopes,
		API: Logs, Provider: discovery, LogsProvider: provider, Source: sapLogs}
}

// analytics is an analytics monitor of a Data (REST) request of SAP's Postman collection.
func analytics(id, title, scope, provider, request string, dims, measures, counts []string) Monitor {
	return Monitor{ID: id, Title: title, Scope: scope, ScopeConfirmed: true, ScopeSource: SAPScopes, API: Analytics,
		DataProvider: provider, Dimensions: dims, Measures: measures, Counts: counts,
		Source: postman + "Data (REST)/" + request}
}

// builtin is the table of built-in monitors, in the order they are listed to users.
var builtin = []Monitor{
	{ID: "hm", Title: "Health Monitoring", Scope: "calm-api.hm.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Metrics,
		Dimensions: []string{"serviceType", "serviceName", "serviceId", "metricName", "metricLabel"},
		Measures:   []string{"value", "usage", "okStatus", "warningStatus", "criticalStatus"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM Health Monitoring"},
	{ID: "rum", Title: "Real User Monitoring", Scope: "calm-api.hm.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Metrics,
		Provider: "DP_RUM_REQUEST_TYPES", MaxServices: 5,
		Dimensions: []string{"request", "requestType", "serviceType", "serviceName", "serviceId"},
		Measures:   []string{"okStatus", "requests", "users", "responseTime"},
		Counts:     []string{"requests"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM Real User Monitoring"},
	{ID: "jam", Title: "Job & Automation Monitoring", Scope: "calm-api.jam.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Metrics,
		Dimensions: []string{"serviceId", "serviceName", "serviceType", "serviceTypeLabel", "jobType", "jobTypeLabel", "jobName", "jobId"},
		Measures:   []string{"executions", "runTime"},
		Counts:     []string{"executions"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM JobMonitoring"},
	{ID: "exm", Title: "Exception Monitoring", Scope: "calm-api.exm.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Metrics,
		Dimensions: []string{"serviceId", "serviceName", "categoryId", "categoryName", "serviceType"},
		Measures:   []string{"counter"},
		Counts:     []string{"counter"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM Exception Monitoring"},
	// The collection has no raw-data request for iep: the names are those of the analytics
	// provider EVENTS, whose data the iep provider serves.
	{ID: "iep", Title: "Intelligent Event Processing", Scope: "calm-api.iep.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Metrics,
		Dimensions: []string{"serviceType", "useCaseId", "useCase", "serviceId", "serviceName"},
		Measures:   []string{"events", "eventSituations", "totalDuration", "tickets", "alerts", "mails", "chatMessages", "operationFlows"},
		Counts:     []string{"events", "eventSituations", "tickets", "alerts", "mails", "chatMessages", "operationFlows"},
		Source:     postman + "Data (REST)/ALM Monitoring Events"},
	{ID: "sum", Title: "Synthetic User Monitoring", Scope: "calm-api.sum.read", API: Metrics,
		ScopeSource: unpublished + "SAP Help's API Scopes page lists calm-api.sum.write (inbound traces) but no read scope for SUM",
		Dimensions:  []string{"scenarioId", "scenarioName", "runnerId", "runnerName", "businessServiceId", "businessServiceName"},
		Measures: []string{"notAvailable", "available", "availabilityNotRated", "executions", "criticalPerformance",
			"poorPerformance", "goodPerformance", "performanceNotRated", "responseTime"},
		Counts: []string{"executions"},
		Source: postman + "Raw Data - Metrics/Outbound - ALM Synthetic User Monitoring"},
	{ID: "bsm", Title: "Business Service Management (event counts)", Scope: "calm-api.bsm.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Metrics,
		Dimensions: []string{"type", "serviceType", "serviceName", "serviceDescription", "serviceID", "eventType", "eventStatus",
			"eventName", "eventDescription", "eventSource", "eventStartTime", "eventEndTime"},
		Measures: []string{"counter", "duration"},
		Counts:   []string{"counter"},
		Source:   postman + "Raw Data - Metrics/Outbound - ALM Status Events"},
	integration("cpi", "Cloud Integration", "Cloud Platform Integration", "ServiceName", "serviceId", "IntegrationArtifactName", "StatusGroup", "Status"),
	integration("aif", "Application Interface Framework", "Application Interface Framework",
		"ServiceName", "Direction", "Category", "Namespace", "Interface", "Version", "StatusGroup", "Status", "serviceId"),
	integration("idoc", "IDocs", "IDocs", "ServiceName", "MessageType", "SenderPort", "SenderParticipantNumber", "ReceiverPort",
		"ReceiverParticipantNumber", "Direction", "Mandant", "StatusGroup", "serviceId"),
	integration("ws", "Web Services", "Web Services", "ServiceName", "StateGroup", "SenderInterfaceName", "SenderInterfaceNameSpace",
		"ReceiverInterfaceName", "ReceiverInterfaceNameSpace", "Direction", "Mandant", "StatusGroup", "serviceId"),
	integration("sf", "SuccessFactors", "SuccessFactors", "ServiceName", "SourceInterface", "DestinationInterface", "IntegrationName",
		"Direction", "StatusGroup", "serviceId"),
	integration("c4c", "Cloud for Customer", "Cloud for Customer", "ServiceName", "Direction", "InboundInterface", "OutboundInterface",
		"StatusGroup", "Status", "serviceId"),
	integration("concur", "Concur", "Concur", "ServiceName", "Direction", "ConcurCompanyID", "SAPSystemId", "SAPSystemType",
		"Connection", "ObjectType", "StatusGroup", "Status", "serviceId"),
	integration("fg", "Fieldglass", "Fieldglass", "ServiceName", "CategoryType", "Direction", "StatusGroup", "serviceId"),
	integration("mdi", "Master Data Integration", "Master Data Integration", "ServiceName", "ServiceRole", "CommunicationScenario",
		"ObjectTypes", "Direction", "StatusGroup", "serviceId"),
	integration("mobsrv", "Mobile Services", "Mobile Services", "ServiceName", "ApplicationID", "Feature", "Direction", "StatusGroup", "serviceId"),
	integration("aribacig", "Ariba Cloud Integration Gateway", "Ariba Cloud Integration", "ServiceName", "ComponentName", "StatusGroup", "Status", "serviceId"),
	integration("aribanet", "Ariba Network", "Ariba Network", "ServiceName", "ComponentName", "EventName", "SenderNetworkId",
		"ReceiverNetworkId", "SenderName", "ReceiverName", "Direction", "StatusGroup", "Status", "serviceId"),
	integration("aribaproc", "Ariba Procurement", "Ariba Procurement", "ServiceName", "ComponentName", "EventName", "Direction",
		"StatusGroup", "Status", "serviceId"),
	integration("aribasrc", "Ariba Sourcing", "Ariba Sourcing", "ServiceName", "ComponentName", "EventName", "Direction",
		"StatusGroup", "Status", "serviceId"),
	{ID: "status", Title: "Business service status events", Scope: "calm-api.bsm.read", ScopeConfirmed: true, ScopeSource: SAPScopes, API: Events,
		Source: notInSAP + "the events API's fields are listed in docs/cloud-alm-api.md"},
	// One logs monitor per log provider SAP Help lists, each with its own checkpoint. "logs"
	// keeps its id (exm.im) so that existing checkpoints stay valid.
	logsMonitor("logs", "exm.im", "Exception Monitoring for Integration Monitoring", "calm-api.exm.read", "EXM_DATAPROVIDER"),
	logsMonitor("logs-exm-jam", "exm.jam", "Exception Monitoring for Job Monitoring", "calm-api.exm.read", "EXM_DATAPROVIDER"),
	logsMonitor("logs-bsm", "bsm", "Business Services Management (status events)", "calm-api.bsm.read", "EVENTS"),
	logsMonitor("logs-im", "im", "Integration Monitoring", IntegrationScope, "CPI_MESSAGES"),
	logsMonitor("logs-iep", "iep", "Monitoring Events", "calm-api.iep.read", "EVENTS"),
	logsMonitor("logs-jam-def", "jam.def", "Job Automation Monitoring Definition Logs", "calm-api.jam.read", "DP_JOB_MONITORING"),
	logsMonitor("logs-jam-run", "jam.run", "Job Automation Monitoring Runtime Logs", "calm-api.jam.read", "DP_JOB_MONITORING"),
	logsMonitor("logs-jam-run-step", "jam.run_step", "Job Automation Monitoring Runtime Step Logs", "calm-api.jam.read", "DP_JOB_MONITORING"),
	// Real User Monitoring's traces, read as the logs API is read (SAP publishes no parameters):
	// one RUM service a request, the services DP_RUM_REQUEST_TYPES lists (docs/cloud-alm-api.md).
	{ID: "traces", Title: "Real User Monitoring traces", Scope: "calm-api.traces.read", API: Traces,
		ScopeSource: unpublished + "the Raw Data Outbound Traces API page's scope table could not be read; named after the inbound page's calm-api.traces.write",
		Provider:    "DP_RUM_REQUEST_TYPES", LogsProvider: "rum", Source: sapTraces},
	// Analytics monitors: data only the Analytics API serves.
	analytics("bpm", "Business Process Monitoring KPIs", "calm-api.bm.read", "KPI_HISTORY_TOTALS",
		"ALM Business Process Monitoring (Time Series)",
		[]string{"kpiId", "kpiName", "kpiCategory", "kpiDescription", "serviceId", "serviceName"},
		[]string{"kpiValue"}, nil),
	analytics("jobs", "Job outcomes", "calm-api.jam.read", "DP_JOB_MONITORING", "ALM Job Monitoring (Time Series)",
		[]string{"serviceType", "serviceId", "serviceName", "serviceTypeLabel", "jobType", "jobTypeLabel", "jobName", "jobId"},
		[]string{"runTime", "averageRunTime", "executions", "success", "warning", "aborted", "applicationWarning", "applicationError"},
		[]string{"executions", "success", "warning", "aborted", "applicationWarning", "applicationError"}),
	analytics("csa", "Configuration and Security Analysis changes", "calm-api.csa.read", "CCDB_STORE_DATA",
		"ALM Configuration and Security Analysis (Time Series)",
		[]string{"serviceType", "serviceTypeLabel", "serviceId", "serviceName", "serviceNameDesc", "storeLscpId", "storeLscpCaption",
			"sciId", "sciDesc", "storeId", "storeNameExt", "storeName", "storeType", "storeHasSecrec", "elementDate", "elementDateTo",
			"elementModification", "elementStatus", "itemSecRecStatus", "itemSecRecIndex"},
		[]string{"numChanges", "numStores", "numItems", "tickets", "alerts", "mails", "chatMessages", "operationFlows"},
		[]string{"numChanges"}),
	analytics("monitoring-events", "Monitoring events", "calm-api.iep.read", "EVENTS", "ALM Monitoring Events (Time Series)",
		[]string{"serviceType", "useCaseId", "useCase", "serviceId", "serviceName"},
		[]string{"events", "eventSituations", "totalDuration", "tickets", "alerts", "mails", "chatMessages", "operationFlows"},
		[]string{"events", "eventSituations", "tickets", "alerts", "mails", "chatMessages", "operationFlows"}),
}

// Table is a table of monitors: the built-in ones (Builtin) and any given as data (With). The
// collector, the connection test and the console take a Table, so that monitors defined at run
// time are known to every part of a run without global state.
type Table struct{ monitors []Monitor }

// Builtin returns the table of built-in monitors.
func Builtin() Table { return Table{monitors: builtin} }

// With returns the table extended by extra monitors (Definitions turned into monitors); an id
// already in the table is an error naming it.
func (t Table) With(extra ...Monitor) (Table, error) {
	out := Table{monitors: slices.Clip(slices.Clone(t.monitors))}
	for _, m := range extra {
		if _, ok := out.Lookup(m.ID); ok {
			return Table{}, fmt.Errorf("monitor %q is already defined; choose another id", m.ID)
		}
		out.monitors = append(out.monitors, m.clone())
	}
	return out, nil
}

// All returns a copy of the table, in table order.
func (t Table) All() []Monitor {
	out := make([]Monitor, len(t.monitors))
	for i, m := range t.monitors {
		out[i] = m.clone()
	}
	return out
}

func (m Monitor) clone() Monitor {
	m.Dimensions = slices.Clone(m.Dimensions)
	m.Measures = slices.Clone(m.Measures)
	m.Counts = slices.Clone(m.Counts)
	m.Methods = maps.Clone(m.Methods)
	m.Filters = slices.Clone(m.Filters)
	for i := range m.Filters {
		m.Filters[i].Values = slices.Clone(m.Filters[i].Values)
	}
	return m
}

// Lookup returns the monitor with the id.
func (t Table) Lookup(id string) (Monitor, bool) {
	i := slices.IndexFunc(t.monitors, func(m Monitor) bool { return m.ID == id })
	if i < 0 {
		return Monitor{}, false
	}
	return t.monitors[i].clone(), true
}

// IDs returns the id of every monitor, in table order.
func (t Table) IDs() []string {
	ids := make([]string, len(t.monitors))
	for i, m := range t.monitors {
		ids[i] = m.ID
	}
	return ids
}

// Defaults returns the ids of the monitors whose scope is confirmed: the ones the connection test
// probes when none are named.
func (t Table) Defaults() []string {
	var ids []string
	for _, m := range t.monitors {
		if m.ScopeConfirmed {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// Parse splits a comma list of monitor ids ("" = Defaults), drops repeats and rejects unknown
// ids, naming every one of them and the known ones.
func (t Table) Parse(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return t.Defaults(), nil
	}
	var ids, unknown []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		if _, ok := t.Lookup(id); !ok {
			unknown = append(unknown, id)
			continue
		}
		ids = append(ids, id)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown monitor %s: use a comma list of %s",
			strings.Join(unknown, ", "), strings.Join(t.IDs(), ","))
	}
	return ids, nil
}

// All returns a copy of the built-in table, in table order.
func All() []Monitor { return Builtin().All() }

// Lookup returns the built-in monitor with the id.
func Lookup(id string) (Monitor, bool) { return Builtin().Lookup(id) }

// IDs returns the id of every built-in monitor, in table order.
func IDs() []string { return Builtin().IDs() }

// Defaults returns the ids of the built-in monitors whose scope is confirmed.
func Defaults() []string { return Builtin().Defaults() }

// Parse is Builtin().Parse.
func Parse(list string) ([]string, error) { return Builtin().Parse(list) }

// IsCountName reports whether a metric name is a count of some built-in monitor: it matches a
// measure listed in Counts on the whole name or on its last segment after '.', ':' or '/'
// ("jam.executions", "measure:executions"), case-insensitively. "count" also matches, for the
// "<name>.count" records made of histograms and summaries. Monitors given as data have no
// counts: their measures are gauges.
func IsCountName(name string) bool {
	if i := strings.LastIndexAny(name, ".:/"); i >= 0 {
		name = name[i+1:]
	}
	return countNames[strings.ToLower(name)]
}

var countNames = func() map[string]bool {
	set := map[string]bool{"count": true}
	for _, m := range builtin {
		for _, c := range m.Counts {
			set[strings.ToLower(c)] = true
		}
	}
	return set
}()
