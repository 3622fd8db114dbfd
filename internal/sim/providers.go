package sim

import (
	"fmt"
	"slices"
)

// Scope suffixes the simulator knows. A token carries them as "<xsappname>.<suffix>".
const (
	ScopeAnalytics = "calm-api.analytics.read"
	ScopeMetrics   = "calm-api.metrics.read"
	ScopeHM        = "calm-api.hm.read"
	ScopeRUMUsers  = "calm-api.rum.personal.read"
	ScopeJAM       = "calm-api.jam.read"
	ScopeEXM       = "calm-api.exm.read"
	ScopeIEP       = "calm-api.iep.read"
	ScopeSUM       = "calm-api.sum.read"                    // unconfirmed (docs/design.md §1.3)
	ScopeBSM       = "calm-api.bsm.read"                    // SAP Help, API Scopes
	ScopeIMM       = "calm-api.integration-monitoring.read" // SAP Help, API Scopes
	ScopeLandscape = "calm-api.landscape.read"
	// ScopeTraces is the traces API's scope: unconfirmed, by analogy with the inbound traces
	// API's calm-api.traces.write (docs/cloud-alm-api.md, "Traces").
	ScopeTraces = "calm-api.traces.read"
	ScopeBM     = "calm-api.bm.read"  // Business Process Monitoring analytics (SAP Help, API Scopes)
	ScopeCSA    = "calm-api.csa.read" // Configuration and Security Analysis analytics
)

// AllScopes is the default grant: every scope suffix the simulator checks.
var AllScopes = []string{
	ScopeAnalytics, ScopeMetrics, ScopeHM, ScopeRUMUsers, ScopeJAM, ScopeEXM, ScopeIEP,
	ScopeSUM, ScopeBSM, ScopeIMM, ScopeLandscape, ScopeTraces, ScopeBM, ScopeCSA,
}

// rumMaxServices is the real per-query limit of the rum provider (docs/design.md §1.3).
const rumMaxServices = 5

// measureKind says how a measure is encoded in OTLP.
type measureKind int

const (
	gauge measureKind = iota // double gauge
	count                    // int sum, delta temporality, monotonic
)

// measure is one measure of a provider: it becomes one OTLP metric.
type measure struct {
	name string
	unit string
	kind measureKind
	// gen derives the value from the row hash (shared by the measures of one row) and the
	// measure's own hash.
	gen func(row, own uint64) float64
}

// provider is one monitor of the raw-data metrics API.
type provider struct {
	id          string // the metrics API provider parameter
	analytics   string // the analytics API provider name (filters, providers list)
	description string
	domain      string
	scope       string // besides ScopeMetrics
	// resourceDims are service-level dimensions: resource attributes. pointDims are data-point
	// attributes. Together they are the provider's dimensions as in SAP's Postman collection.
	resourceDims []string
	pointDims    []string
	measures     []measure
	variants     int    // series per service
	presence     uint64 // percent of buckets in which a series has a row
}

func (p *provider) dimensions() []string { return append(slices.Clone(p.resourceDims), p.pointDims...) }

func (p *provider) measure(name string) int {
	return slices.IndexFunc(p.measures, func(m measure) bool { return m.name == name })
}

// Value generators.
func gaugeIn(lo, hi float64) func(row, own uint64) float64 {
	return func(_, own uint64) float64 {
		v := lo + float64(own%100000)/100000*(hi-lo)
		return float64(int64(v*100)) / 100
	}
}

func countIn(lo, hi uint64) func(row, own uint64) float64 {
	return func(_, own uint64) float64 { return float64(lo + own%(hi-lo+1)) }
}

// oneHot returns 1 for the member idx of a group of mutually exclusive measures (weights in
// percent-like units), chosen once per row and group salt.
func oneHot(salt string, idx int, weights ...uint64) func(row, own uint64) float64 {
	var total uint64
	for _, w := range weights {
		total += w
	}
	return func(row, _ uint64) float64 {
		pick := hash(salt, row) % total
		for i, w := range weights {
			if pick < w {
				if i == idx {
					return 1
				}
				return 0
			}
			pick -= w
		}
		return 0
	}
}

func imMeasures() []measure { return []measure{{"Count", "1", count, countIn(1, 500)}} }

// integration builds an integration monitoring provider (one per technology).
func integration(id, analytics, description string, dims ...string) provider {
	return provider{
		id: id, analytics: analytics, description: description, domain: "Integration Monitoring",
		scope: ScopeIMM, resourceDims: []string{"ServiceName", "serviceId"}, pointDims: dims,
		measures: imMeasures(), variants: 3, presence: 60,
	}
}

// providers is the one table of simulated metrics providers: ids, dimensions and measures
// as in SAP's Postman collection (docs/design.md §1.3).
var providers = []provider{
	{
		id: "hm", analytics: "HM_ANALYTICS_DP", description: "Health Monitoring", domain: "Health Monitoring",
		scope: ScopeHM, resourceDims: []string{"serviceType", "serviceName", "serviceId"},
		pointDims: []string{"metricName", "metricLabel"},
		measures: []measure{
			{"value", "", gauge, gaugeIn(0, 100)},
			{"usage", "%", gauge, gaugeIn(0, 100)},
			{"okStatus", "", gauge, oneHot("hm-status", 0, 85, 10, 5)},
			{"warningStatus", "", gauge, oneHot("hm-status", 1, 85, 10, 5)},
			{"criticalStatus", "", gauge, oneHot("hm-status", 2, 85, 10, 5)},
		},
		variants: 3, presence: 100,
	},
	{
		id: "rum", analytics: "DP_RUM_REQUEST_TYPES", description: "Real User Monitoring", domain: "Real User Monitoring",
		scope: ScopeHM, resourceDims: []string{"serviceType", "serviceName", "serviceId"},
		pointDims: []string{"request", "requestType"},
		measures: []measure{
			{"okStatus", "", gauge, oneHot("rum-ok", 0, 90, 10)},
			{"requests", "1", count, countIn(1, 200)},
			{"users", "1", gauge, gaugeIn(1, 50)},
			{"responseTime", "ms", gauge, gaugeIn(50, 3000)},
		},
		variants: 3, presence: 80,
	},
	{
		id: "jam", analytics: "DP_JOB_MONITORING", description: "Job & Automation Monitoring", domain: "Job & Automation Monitoring",
		scope: ScopeJAM, resourceDims: []string{"serviceId", "serviceName", "serviceType", "serviceTypeLabel"},
		pointDims: []string{"jobType", "jobTypeLabel", "jobName", "jobId"},
		measures: []measure{
			{"executions", "1", count, countIn(1, 3)},
			{"runTime", "s", gauge, gaugeIn(1, 600)},
		},
		variants: 3, presence: 30,
	},
	{
		id: "exm", analytics: "EXM_DATAPROVIDER", description: "Exception Monitoring", domain: "Exception Monitoring",
		scope: ScopeEXM, resourceDims: []string{"serviceId", "serviceName", "serviceType"},
		pointDims: []string{"categoryId", "categoryName"},
		measures:  []measure{{"counter", "1", count, countIn(1, 20)}},
		variants:  3, presence: 35,
	},
	{
		id: "iep", analytics: "EVENTS", description: "Intelligent Event Processing", domain: "Intelligent Event Processing",
		scope: ScopeIEP, resourceDims: []string{"serviceType", "serviceId", "serviceName"},
		pointDims: []string{"useCaseId", "useCase"},
		measures: []measure{
			{"events", "1", count, countIn(1, 30)},
			{"eventSituations", "1", count, countIn(0, 5)},
			{"totalDuration", "min", gauge, gaugeIn(0, 300)},
			{"tickets", "1", count, countIn(0, 2)},
			{"alerts", "1", count, countIn(0, 5)},
			{"mails", "1", count, countIn(0, 4)},
			{"chatMessages", "1", count, countIn(0, 3)},
			{"operationFlows", "1", count, countIn(0, 2)},
		},
		variants: 4, presence: 20,
	},
	{
		id: "sum", analytics: "SUM_DATAPROVIDER", description: "Synthetic User Monitoring", domain: "Synthetic User Monitoring",
		scope: ScopeSUM, resourceDims: []string{"businessServiceId", "businessServiceName"},
		pointDims: []string{"scenarioId", "scenarioName", "runnerId", "runnerName"},
		measures: []measure{
			{"available", "1", count, oneHot("sum-avail", 0, 90, 7, 3)},
			{"notAvailable", "1", count, oneHot("sum-avail", 1, 90, 7, 3)},
			{"availabilityNotRated", "1", count, oneHot("sum-avail", 2, 90, 7, 3)},
			{"executions", "1", count, countIn(1, 1)},
			{"criticalPerformance", "1", count, oneHot("sum-perf", 0, 5, 15, 75, 5)},
			{"poorPerformance", "1", count, oneHot("sum-perf", 1, 5, 15, 75, 5)},
			{"goodPerformance", "1", count, oneHot("sum-perf", 2, 5, 15, 75, 5)},
			{"performanceNotRated", "1", count, oneHot("sum-perf", 3, 5, 15, 75, 5)},
			{"responseTime", "ms", gauge, gaugeIn(200, 8000)},
		},
		variants: 2, presence: 90,
	},
	{
		// bsm rows come from the status events (see bsmRows), not from the generic generator.
		id: "bsm", analytics: "EVENTS_DATA_SET", description: "Business Service Management", domain: "Business Service Management",
		scope:        ScopeBSM,
		resourceDims: []string{"serviceType", "serviceName", "serviceDescription", "serviceID"},
		pointDims: []string{"type", "eventType", "eventStatus", "eventName", "eventDescription",
			"eventSource", "eventStartTime", "eventEndTime"},
		measures: []measure{
			{"counter", "1", count, nil},
			{"duration", "min", gauge, nil},
		},
	},
	integration("cpi", "CPI_MESSAGES", "Integration Monitoring: Cloud Integration",
		"IntegrationArtifactName", "StatusGroup", "Status"),
	integration("aif", "AIF", "Integration Monitoring: Application Interface Framework",
		"Direction", "Category", "Namespace", "Interface", "Version", "StatusGroup", "Status"),
	integration("idoc", "IDOC", "Integration Monitoring: IDocs",
		"MessageType", "SenderPort", "SenderParticipantNumber", "ReceiverPort", "ReceiverParticipantNumber",
		"Direction", "Mandant", "StatusGroup"),
	integration("ws", "WS", "Integration Monitoring: Web Services",
		"StateGroup", "SenderInterfaceName", "SenderInterfaceNameSpace", "ReceiverInterfaceName",
		"ReceiverInterfaceNameSpace", "Direction", "Mandant", "StatusGroup"),
	integration("sf", "SF", "Integration Monitoring: SuccessFactors",
		"SourceInterface", "DestinationInterface", "IntegrationName", "Direction", "StatusGroup"),
	integration("c4c", "C4C", "Integration Monitoring: Cloud for Customer",
		"Direction", "InboundInterface", "OutboundInterface", "StatusGroup", "Status"),
	integration("concur", "Concur", "Integration Monitoring: Concur",
		"Direction", "ConcurCompanyID", "SAPSystemId", "SAPSystemType", "Connection", "ObjectType", "StatusGroup", "Status"),
	integration("fg", "FG", "Integration Monitoring: Fieldglass",
		"CategoryType", "Direction", "StatusGroup"),
	integration("mdi", "MDI", "Integration Monitoring: Master Data Integration",
		"ServiceRole", "CommunicationScenario", "ObjectTypes", "Direction", "StatusGroup"),
	integration("mobsrv", "Mob_Srv", "Integration Monitoring: Mobile Services",
		"ApplicationID", "Feature", "Direction", "StatusGroup"),
	integration("aribacig", "Ariba_CIG", "Integration Monitoring: Ariba Cloud Integration Gateway",
		"ComponentName", "StatusGroup", "Status"),
	integration("aribanet", "Ariba_Network", "Integration Monitoring: Ariba Network",
		"ComponentName", "EventName", "SenderNetworkId", "ReceiverNetworkId", "SenderName", "ReceiverName",
		"Direction", "StatusGroup", "Status"),
	integration("aribaproc", "Ariba_Procurement", "Integration Monitoring: Ariba Procurement",
		"ComponentName", "EventName", "Direction", "StatusGroup", "Status"),
	integration("aribasrc", "Ariba_Sourcing", "Integration Monitoring: Ariba Sourcing",
		"ComponentName", "EventName", "Direction", "StatusGroup", "Status"),
}

// extraAnalyticsProviders are analytics providers without a raw-data metrics counterpart here.
var extraAnalyticsProviders = []struct{ name, description, domain string }{
	{"KPI_HISTORY_TOTALS", "Business Process Monitoring KPIs", "Business Process Monitoring"},
	{"CCDB_STORE_DATA", "Configuration and Security Analysis data stores", "Configuration and Security Analysis"},
}

func lookupProvider(id string) *provider {
	for i := range providers {
		if providers[i].id == id {
			return &providers[i]
		}
	}
	return nil
}

func lookupAnalytics(name string) *provider {
	for i := range providers {
		if providers[i].analytics == name {
			return &providers[i]
		}
	}
	return nil
}

// ProviderIDs lists the metrics provider ids the simulator serves, in table order.
func ProviderIDs() []string {
	ids := make([]string, len(providers))
	for i, p := range providers {
		ids[i] = p.id
	}
	return ids
}

// pools hold the values of data-point dimensions; series v of a service takes entry
// v % len. Lists of one dimension family are aligned (metricName/metricLabel, …).
var pools = map[string][]string{
	"metricName":               {"CPU_UTILIZATION", "MEMORY_UTILIZATION", "HTTP_RESPONSE_TIME"},
	"metricLabel":              {"CPU Utilization", "Memory Utilization", "HTTP Response Time"},
	"request":                  {"/sap/bc/ui5_ui5/ui2/ushell/shells/abap/FioriLaunchpad.html", "VA01", "/odata/v4/SalesOrder"},
	"requestType":              {"UI5", "DIALOG", "ODATA"},
	"jobType":                  {"ABAP_JOB", "BTP_JOB_SCHEDULER", "ABAP_JOB"},
	"jobTypeLabel":             {"ABAP Job", "Job Scheduling Service", "ABAP Job"},
	"jobName":                  {"SAP_REORG_SPOOL", "ZBILLING_RUN", "SAP_COLLECTOR_FOR_PERFMONITOR"},
	"categoryId":               {"ABAP_RUNTIME_ERRORS", "ABAP_UPDATE_ERRORS", "APPLICATION_LOG"},
	"categoryName":             {"ABAP Runtime Errors", "Update Errors", "Application Logs"},
	"useCase":                  {"HM", "JOBMON", "EXM", "IM"},
	"runnerName":               {"Runner EU10", "Runner US10"},
	"StatusGroup":              {"Successful", "Failed", "Processing"},
	"Status":                   {"COMPLETED", "FAILED", "RETRY"},
	"StateGroup":               {"Successful", "Failed", "Processing"},
	"Direction":                {"Outbound", "Inbound", "Outbound"},
	"IntegrationArtifactName":  {"Replicate_BusinessPartner", "OrderToCash_IFlow", "Employee_Sync"},
	"Mandant":                  {"100", "200", "100"},
	"MessageType":              {"ORDERS", "DEBMAS", "INVOIC"},
	"SenderInterfaceNameSpace": {"http://sap.com/xi/APPL/Global2", "urn:sap-com:document:sap:rfc:functions", "http://sap.com/xi/EDI"},
}

// pointValue is the value of data-point dimension dim for series v of service svc.
func pointValue(svc service, dim string, v int) string {
	switch dim {
	case "jobId":
		return uuidFrom("job", svc.ID, pointValue(svc, "jobName", v))
	case "scenarioId":
		return uuidFrom("scenario", svc.ID)
	case "scenarioName":
		return svc.Name + " Launchpad Login"
	case "runnerId":
		return uuidFrom("runner", pointValue(svc, "runnerName", v))
	}
	if pool, ok := pools[dim]; ok {
		return pool[v%len(pool)]
	}
	return fmt.Sprintf("%s %d", dim, v+1)
}

// serviceValue is the value of a service-level dimension.
func serviceValue(svc service, dim string) string {
	switch dim {
	case "serviceId", "serviceID", "businessServiceId":
		return svc.ID
	case "serviceName", "ServiceName", "businessServiceName":
		return svc.Name
	case "serviceType":
		return svc.Type
	case "serviceTypeLabel":
		return svc.TypeLabel
	case "serviceDescription":
		return svc.Description
	}
	return ""
}
