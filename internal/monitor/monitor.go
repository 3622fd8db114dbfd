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
	"slices"
	"strings"
)

// API is the Cloud ALM API a monitor is read from.
type API string

// The APIs the monitors use.
const (
	Metrics API = "metrics" // GET /api/calm-metrics/v1/metrics (raw data, OTLP metrics)
	Events  API = "events"  // GET /api/bsm-service/v1/events (status events, a JSON array)
	Logs    API = "logs"    // GET /api/calm-logs/v1/logs (raw data, OTLP logs)
)

// Scope suffixes besides the monitors' own. A granted scope reads `<xsappname>.calm-api.….read`
// and is matched on its `calm-api.…` suffix.
const (
	// MetricsScope is needed by every call to the metrics API, in addition to the monitor's scope.
	MetricsScope = "calm-api.metrics.read"
	// AnalyticsScope is needed by service discovery and the analytics providers list.
	AnalyticsScope = "calm-api.analytics.read"
	// IntegrationScope is the (unconfirmed) scope of the Integration Monitoring providers.
	IntegrationScope = "calm-api.imm.read"
)

// Monitor is one row of the table.
type Monitor struct {
	ID    string // the metrics API provider parameter and the monitor id, e.g. "hm"
	Title string
	// Scope is the calm-api scope suffix the monitor needs, e.g. "calm-api.hm.read".
	Scope string
	// ScopeConfirmed is false where SAP has not published the scope name: such a monitor is
	// collected only when named (never by "auto") and is not probed by default.
	ScopeConfirmed bool
	API            API
	// Provider is the analytics provider whose serviceId filter lists the monitor's services
	// ("" when the monitor needs no service discovery).
	Provider string
	// LogsProvider is the logs API's `provider` parameter (logs monitors only).
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
	// Source names the request of SAP's Postman collection the names are taken from, or says
	// "not in SAP's material: …" where they come from elsewhere.
	Source string
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

func integration(id, title, request string, dims ...string) Monitor {
	return Monitor{ID: id, Title: "Integration Monitoring: " + title, Scope: IntegrationScope, API: Metrics,
		Dimensions: dims, Measures: []string{"Count"}, Counts: []string{"Count"},
		Source: postman + "Raw Data - Metrics/Outbound - IM - " + request}
}

// table is the one table of monitors, in the order they are listed to users.
var table = []Monitor{
	{ID: "hm", Title: "Health Monitoring", Scope: "calm-api.hm.read", ScopeConfirmed: true, API: Metrics,
		Dimensions: []string{"serviceType", "serviceName", "serviceId", "metricName", "metricLabel"},
		Measures:   []string{"value", "usage", "okStatus", "warningStatus", "criticalStatus"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM Health Monitoring"},
	{ID: "rum", Title: "Real User Monitoring", Scope: "calm-api.hm.read", ScopeConfirmed: true, API: Metrics,
		Provider: "DP_RUM_REQUEST_TYPES", MaxServices: 5,
		Dimensions: []string{"request", "requestType", "serviceType", "serviceName", "serviceId"},
		Measures:   []string{"okStatus", "requests", "users", "responseTime"},
		Counts:     []string{"requests"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM Real User Monitoring"},
	{ID: "jam", Title: "Job & Automation Monitoring", Scope: "calm-api.jam.read", ScopeConfirmed: true, API: Metrics,
		Dimensions: []string{"serviceId", "serviceName", "serviceType", "serviceTypeLabel", "jobType", "jobTypeLabel", "jobName", "jobId"},
		Measures:   []string{"executions", "runTime"},
		Counts:     []string{"executions"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM JobMonitoring"},
	{ID: "exm", Title: "Exception Monitoring", Scope: "calm-api.exm.read", ScopeConfirmed: true, API: Metrics,
		Dimensions: []string{"serviceId", "serviceName", "categoryId", "categoryName", "serviceType"},
		Measures:   []string{"counter"},
		Counts:     []string{"counter"},
		Source:     postman + "Raw Data - Metrics/Outbound - ALM Exception Monitoring"},
	// The collection has no raw-data request for iep: the names are those of the analytics
	// provider EVENTS, whose data the iep provider serves.
	{ID: "iep", Title: "Intelligent Event Processing", Scope: "calm-api.iep.read", ScopeConfirmed: true, API: Metrics,
		Dimensions: []string{"serviceType", "useCaseId", "useCase", "serviceId", "serviceName"},
		Measures:   []string{"events", "eventSituations", "totalDuration", "tickets", "alerts", "mails", "chatMessages", "operationFlows"},
		Counts:     []string{"events", "eventSituations", "tickets", "alerts", "mails", "chatMessages", "operationFlows"},
		Source:     postman + "Data (REST)/ALM Monitoring Events"},
	{ID: "sum", Title: "Synthetic User Monitoring", Scope: "calm-api.sum.read", API: Metrics,
		Dimensions: []string{"scenarioId", "scenarioName", "runnerId", "runnerName", "businessServiceId", "businessServiceName"},
		Measures: []string{"notAvailable", "available", "availabilityNotRated", "executions", "criticalPerformance",
			"poorPerformance", "goodPerformance", "performanceNotRated", "responseTime"},
		Counts: []string{"executions"},
		Source: postman + "Raw Data - Metrics/Outbound - ALM Synthetic User Monitoring"},
	{ID: "bsm", Title: "Business Service Management (event counts)", Scope: "calm-api.bsm.read", API: Metrics,
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
	{ID: "status", Title: "Business service status events", Scope: "calm-api.bsm.read", API: Events,
		Source: notInSAP + "the events API's fields are listed in docs/cloud-alm-api.md"},
	// SAP's only logs example is named "ALM Exception Monitoring" yet sends provider=hm: the
	// value is taken as spelt, and a setting overrides it (docs/cloud-alm-api.md).
	{ID: "logs", Title: "Raw exception logs", Scope: "calm-api.logs.read", API: Logs,
		Provider: "EXM_DATAPROVIDER", LogsProvider: "hm",
		Source: postman + "Raw Data - Logs/Outbound - ALM Exception Monitoring"},
}

// All returns a copy of the table, in table order.
func All() []Monitor {
	out := make([]Monitor, len(table))
	for i, m := range table {
		out[i] = m.clone()
	}
	return out
}

func (m Monitor) clone() Monitor {
	m.Dimensions = slices.Clone(m.Dimensions)
	m.Measures = slices.Clone(m.Measures)
	m.Counts = slices.Clone(m.Counts)
	return m
}

// Lookup returns the monitor with the id.
func Lookup(id string) (Monitor, bool) {
	i := slices.IndexFunc(table, func(m Monitor) bool { return m.ID == id })
	if i < 0 {
		return Monitor{}, false
	}
	return table[i].clone(), true
}

// IDs returns the id of every monitor, in table order.
func IDs() []string {
	ids := make([]string, len(table))
	for i, m := range table {
		ids[i] = m.ID
	}
	return ids
}

// Defaults returns the ids of the monitors whose scope is confirmed: the ones the connection test
// probes when none are named.
func Defaults() []string {
	var ids []string
	for _, m := range table {
		if m.ScopeConfirmed {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// Parse splits a comma list of monitor ids ("" = Defaults), drops repeats and rejects unknown
// ids, naming every one of them and the known ones.
func Parse(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return Defaults(), nil
	}
	var ids, unknown []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		if _, ok := Lookup(id); !ok {
			unknown = append(unknown, id)
			continue
		}
		ids = append(ids, id)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown monitor %s: use a comma list of %s",
			strings.Join(unknown, ", "), strings.Join(IDs(), ","))
	}
	return ids, nil
}

// IsCountName reports whether a metric name is a count of some monitor: it matches a measure
// listed in Counts on the whole name or on its last segment after '.', ':' or '/'
// ("jam.executions", "measure:executions"), case-insensitively. "count" also matches, for the
// "<name>.count" records made of histograms and summaries.
func IsCountName(name string) bool {
	if i := strings.LastIndexAny(name, ".:/"); i >= 0 {
		name = name[i+1:]
	}
	return countNames[strings.ToLower(name)]
}

var countNames = func() map[string]bool {
	set := map[string]bool{"count": true}
	for _, m := range table {
		for _, c := range m.Counts {
			set[strings.ToLower(c)] = true
		}
	}
	return set
}()
