package collect

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// Client is what the monitors need from Cloud ALM; *calm.Client satisfies it.
type Client interface {
	Metrics(ctx context.Context, q calm.MetricsQuery) iter.Seq2[calm.MetricsPage, error]
	Services(ctx context.Context, provider string) ([]calm.Service, error)
	StatusEvents(ctx context.Context, q calm.EventsQuery) iter.Seq2[calm.StatusEvent, error]
	Logs(ctx context.Context, q calm.LogsQuery) iter.Seq2[calm.LogsPage, error]
}

// Monitor is one Cloud ALM source. Fetch emits every record of [q.From, q.To) with one paged
// request series (or a few, for sources queried in batches); records that fall outside the range
// are dropped by the runner.
type Monitor interface {
	Info() Info
	Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error
}

// Info describes a monitor.
type Info struct {
	ID    string // provider / monitor id, e.g. "hm"
	Title string
	// Scope is the calm-api scope suffix the monitor needs, e.g. "calm-api.hm.read".
	Scope string
	// ScopeConfirmed is false where the scope name is not known for sure (docs/design.md §1.3): such a
	// monitor is collected only when named, never by "auto".
	ScopeConfirmed bool
	// Provider is the analytics provider used for service discovery ("" when none).
	Provider string
	// Events marks a monitor of status events: a lookback each run and content marks, instead
	// of windows and checkpoints.
	Events bool
	// Logs marks the raw logs monitor (the logs API, not the metrics API).
	Logs bool
}

// Query is the time range and settings of one Fetch.
type Query struct {
	Tenant     string
	From, To   time.Time
	Resolution string // metrics API resolution, e.g. "5Mi"
}

// MetricsScope is needed by every call to the metrics API, in addition to the monitor's scope.
const MetricsScope = "calm-api.metrics.read"

// monitors is the one table of monitors (docs/design.md §1.3, dimensions and measures from SAP's Postman
// collection). Ask only for what identifies a series: dimensions left out would merge series.
var monitors = []Monitor{
	metrics{info: Info{ID: "hm", Title: "Health Monitoring", Scope: "calm-api.hm.read", ScopeConfirmed: true},
		dims: "serviceType,serviceName,serviceId,metricName,metricLabel", measures: "value,usage,okStatus,warningStatus,criticalStatus"},
	rum{metrics{info: Info{ID: "rum", Title: "Real User Monitoring", Scope: "calm-api.hm.read", ScopeConfirmed: true, Provider: "DP_RUM_REQUEST_TYPES"},
		dims: "request,requestType,serviceType,serviceName,serviceId", measures: "okStatus,requests,users,responseTime"}},
	metrics{info: Info{ID: "jam", Title: "Job & Automation Monitoring", Scope: "calm-api.jam.read", ScopeConfirmed: true},
		dims: "serviceId,serviceName,serviceType,serviceTypeLabel,jobType,jobTypeLabel,jobName,jobId", measures: "executions,runTime"},
	metrics{info: Info{ID: "exm", Title: "Exception Monitoring", Scope: "calm-api.exm.read", ScopeConfirmed: true},
		dims: "serviceId,serviceName,categoryId,categoryName,serviceType", measures: "counter"},
	metrics{info: Info{ID: "iep", Title: "Intelligent Event Processing", Scope: "calm-api.iep.read", ScopeConfirmed: true},
		dims: "serviceId,serviceName,useCase", measures: "events,event_situations,alerts,tickets,mails"},
	metrics{info: Info{ID: "sum", Title: "Synthetic User Monitoring", Scope: "calm-api.sum.read"},
		dims:     "scenarioId,scenarioName,runnerId,runnerName,businessServiceId,businessServiceName",
		measures: "notAvailable,available,availabilityNotRated,executions,criticalPerformance,poorPerformance,goodPerformance,performanceNotRated,responseTime"},
	metrics{info: Info{ID: "bsm", Title: "Business Service Management (event counts)", Scope: "calm-api.bsm.read"},
		dims: "type,serviceType,serviceName,serviceDescription,serviceID,eventType,eventStatus,eventName,eventDescription,eventSource,eventStartTime,eventEndTime", measures: "counter,duration"},
	integration("cpi", "Cloud Integration", "ServiceName,serviceId,IntegrationArtifactName,StatusGroup,Status"),
	integration("aif", "Application Interface Framework", "ServiceName,Direction,Category,Namespace,Interface,Version,StatusGroup,Status,serviceId"),
	integration("idoc", "IDocs", "ServiceName,MessageType,SenderPort,SenderParticipantNumber,ReceiverPort,ReceiverParticipantNumber,Direction,Mandant,StatusGroup,serviceId"),
	integration("ws", "Web Services", "ServiceName,StateGroup,SenderInterfaceName,SenderInterfaceNameSpace,ReceiverInterfaceName,ReceiverInterfaceNameSpace,Direction,Mandant,StatusGroup,serviceId"),
	integration("sf", "SuccessFactors", "ServiceName,SourceInterface,DestinationInterface,IntegrationName,Direction,StatusGroup,serviceId"),
	integration("c4c", "Cloud for Customer", "ServiceName,Direction,InboundInterface,OutboundInterface,StatusGroup,Status,serviceId"),
	integration("concur", "Concur", "ServiceName,Direction,ConcurCompanyID,SAPSystemId,SAPSystemType,Connection,ObjectType,StatusGroup,Status,serviceId"),
	integration("fg", "Fieldglass", "ServiceName,CategoryType,Direction,StatusGroup,serviceId"),
	integration("mdi", "Master Data Integration", "ServiceName,ServiceRole,CommunicationScenario,ObjectTypes,Direction,StatusGroup,serviceId"),
	integration("mobsrv", "Mobile Services", "ServiceName,ApplicationID,Feature,Direction,StatusGroup,serviceId"),
	integration("aribacig", "Ariba Cloud Integration Gateway", "ServiceName,ComponentName,StatusGroup,Status,serviceId"),
	integration("aribanet", "Ariba Network", "ServiceName,ComponentName,EventName,SenderNetworkId,ReceiverNetworkId,SenderName,ReceiverName,Direction,StatusGroup,Status,serviceId"),
	integration("aribaproc", "Ariba Procurement", "ServiceName,ComponentName,EventName,Direction,StatusGroup,Status,serviceId"),
	integration("aribasrc", "Ariba Sourcing", "ServiceName,ComponentName,EventName,Direction,StatusGroup,Status,serviceId"),
	status{info: Info{ID: "status", Title: "Business service status events", Scope: "calm-api.bsm.read", Events: true}},
	logs{info: Info{ID: "logs", Title: "Raw exception logs", Scope: "calm-api.logs.read", Provider: "EXM_DATAPROVIDER", Logs: true}}, // scope unconfirmed: collected only when named
}

// IntegrationScope is the (unconfirmed) scope of the Integration Monitoring providers.
const IntegrationScope = "calm-api.imm.read"

func integration(id, title, dims string) metrics {
	return metrics{info: Info{ID: id, Title: "Integration Monitoring: " + title, Scope: IntegrationScope},
		dims: dims, measures: "Count"}
}

// Monitors returns the table of monitors, in table order.
func Monitors() []Monitor { return slices.Clone(monitors) }

// MonitorIDs returns the ids of every monitor, in table order.
func MonitorIDs() []string {
	ids := make([]string, len(monitors))
	for i, m := range monitors {
		ids[i] = m.Info().ID
	}
	return ids
}

// Lookup returns the monitor with the id, or nil.
func Lookup(id string) Monitor {
	for _, m := range monitors {
		if m.Info().ID == id {
			return m
		}
	}
	return nil
}

// Scopes is what Select needs from the token: *calm.TokenSource satisfies it.
type Scopes interface{ HasScope(suffix string) bool }

// Select resolves monitor names to monitors. ["auto"] picks every monitor whose scope is
// confirmed and granted (with the metrics scope); names pick exactly those monitors, whatever
// their scope (the API's answer tells); ["all"] names every monitor. skipped lists the monitors "auto" left out and why.
func Select(names []string, scopes Scopes) (selected []Monitor, skipped []string, err error) {
	if len(names) == 1 && names[0] == AllMonitors {
		names = MonitorIDs()
	}
	if len(names) == 1 && names[0] == AutoMonitors {
		for _, m := range monitors {
			in := m.Info()
			switch {
			case !in.ScopeConfirmed:
				skipped = append(skipped, fmt.Sprintf("%s: unconfirmed scope %s; name the monitor to collect it", in.ID, in.Scope))
			case !scopes.HasScope(in.Scope):
				skipped = append(skipped, fmt.Sprintf("%s: the token lacks scope %s", in.ID, in.Scope))
			case !in.Events && !in.Logs && !scopes.HasScope(MetricsScope):
				skipped = append(skipped, fmt.Sprintf("%s: the token lacks scope %s", in.ID, MetricsScope))
			default:
				selected = append(selected, m)
			}
		}
		return selected, skipped, nil
	}
	var unknown []string
	for _, n := range names {
		m := Lookup(n)
		if m == nil {
			unknown = append(unknown, fmt.Sprintf("%q", n))
			continue
		}
		if !slices.ContainsFunc(selected, func(s Monitor) bool { return s.Info().ID == n }) {
			selected = append(selected, m)
		}
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("monitors: unknown %s; known: %s", strings.Join(unknown, ", "), strings.Join(MonitorIDs(), ","))
	}
	return selected, nil, nil
}
