package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/fleet/projection"
)

// Fleet is how the function finds and hands out tenants (docs/deploy.md, "Fan-out"): the
// schedule's tick {"dispatch":true} lists the connectors and queues one message per tenant due;
// the queue's event-source mapping then invokes the function with those messages, a bound
// number at a time.
type Fleet struct {
	// Prefix names the connector secrets (CALM_CONNECTOR_PREFIX); "" when all connectors are in
	// CALM_SECRET_IDS.
	Prefix string
	// Secrets lists the secrets under Prefix.
	Secrets secretsmanager.ListSecretsAPIClient
	// Queue and QueueURL take the work messages (CALM_QUEUE_URL).
	Queue    fleet.QueueAPI
	QueueURL string
	// Period is the time between two schedule ticks (CALM_SCHEDULE_PERIOD).
	Period time.Duration
	// Glue and Table keep the archive table's tenant projection in step with the connectors
	// (CALM_ARCHIVE_TABLE); nil or an empty Table: no archive table.
	Glue  *projection.Glue
	Table projection.ArchiveTable
}

// DispatchSummary is the answer to a schedule tick.
type DispatchSummary struct {
	Connectors int `json:"connectors"`
	Queued     int `json:"queued"`
	// Unfilled are the placeholder connectors nobody has filled in yet: not queued.
	Unfilled []string `json:"unfilled,omitempty"`
	// Projected are the tenants this tick added to the archive table's tenant projection.
	Projected []string `json:"projected,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// Invoke is the function's entry point: an SQS event runs one collection per message (failed
// ones are reported back so that SQS retries and dead-letters them alone), {"dispatch":true}
// hands out the tenants due, anything else is one collection (Handle).
func (h *Handler) Invoke(ctx context.Context, event json.RawMessage) (any, error) {
	if isSQS(event) {
		var e events.SQSEvent
		if err := json.Unmarshal(event, &e); err != nil {
			return nil, fmt.Errorf("SQS event: %w", err)
		}
		return h.HandleSQS(ctx, e), nil
	}
	in, _, err := ParseInput(event)
	if err == nil && in.Dispatch {
		return h.Dispatch(ctx)
	}
	return h.Handle(ctx, event)
}

func isSQS(event json.RawMessage) bool {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	return bytes.Contains(event, []byte(`"Records"`)) && json.Unmarshal(event, &probe) == nil &&
		len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs"
}

// HandleSQS runs each message as one collection and names the messages whose collection did
// nothing (an error from Handle): SQS makes only those visible again, and after the queue's
// maxReceiveCount moves them to the dead-letter queue. A run skipped for another's lease, or a
// partial run, is done: its windows come next tick.
func (h *Handler) HandleSQS(ctx context.Context, e events.SQSEvent) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, m := range e.Records {
		if _, err := h.Handle(ctx, json.RawMessage(m.Body)); err != nil {
			h.logger().Error("work message failed; SQS retries it, then dead-letters it", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

// Dispatch queues one message per connector due now: those under the prefix and those of
// CALM_SECRET_IDS. It fails only when nothing could be queued.
func (h *Handler) Dispatch(ctx context.Context) (DispatchSummary, error) {
	f := h.Fleet
	if f == nil || f.Queue == nil || f.QueueURL == "" {
		return DispatchSummary{}, errors.New("dispatch: CALM_QUEUE_URL is not set, so there is no queue to hand tenants to")
	}
	var cs []fleet.Connector
	var errs []error
	if f.Prefix != "" {
		found, err := fleet.List(ctx, f.Secrets, f.Prefix)
		cs, errs = found, append(errs, err)
	}
	for _, name := range names(h.SecretIDs) {
		if !slices.ContainsFunc(cs, func(c fleet.Connector) bool { return c.Name == name }) {
			cs = append(cs, fleet.Connector{Name: name, SecretID: h.SecretIDs[name]})
		}
	}
	var sum DispatchSummary
	if f.Glue != nil && f.Table.Database != "" {
		// Before the messages: a new tenant's first objects are queryable as soon as written. A
		// failure here is reported and retried next tick; it never holds up the collection.
		var err error
		sum.Projected, err = projection.Tenants(ctx, f.Glue, f.Table, connectorNames(cs))
		errs = append(errs, err)
		if len(sum.Projected) > 0 {
			h.logger().Info("archive table: tenants added to the projection", "table", f.Table.String(), "tenants", sum.Projected)
		}
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	n, err := fleet.Dispatch(ctx, f.Queue, f.QueueURL, now(), f.Period, cs)
	errs = append(errs, err)
	sum.Connectors, sum.Queued = len(cs), n
	for _, c := range cs {
		if c.Unfilled {
			sum.Unfilled = append(sum.Unfilled, c.Name)
		}
	}
	if len(sum.Unfilled) > 0 {
		// The dashboard's "Connectors not filled in" widget reads unfilled from this line.
		h.logger().Warn("placeholder connectors not filled in yet: not queued", "unfilled", sum.Unfilled)
	}
	if err := errors.Join(errs...); err != nil {
		sum.Error = err.Error()
		h.logger().Error("dispatch", "connectors", len(cs), "queued", n, "err", err)
		if n == 0 && len(cs) > len(sum.Unfilled) {
			return sum, err
		}
	}
	h.logger().Info("dispatch", "connectors", len(cs), "queued", n)
	return sum, nil
}

func connectorNames(cs []fleet.Connector) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

// projectTenant adds a tenant named otherwise than its connector (the "name" of its service key)
// to the archive table's tenant projection before its run writes (docs/analytics.md, "Tenants
// added at run time"); the tick adds the connectors' own names. A failure is logged and the next
// run tries again: it never holds up the collection.
func (h *Handler) projectTenant(ctx context.Context, connector, tenant string, log *slog.Logger) {
	f := h.Fleet
	if f == nil || f.Glue == nil || f.Table.Database == "" || tenant == connector || tenant == "" {
		return
	}
	added, err := projection.Tenants(ctx, f.Glue, f.Table, []string{tenant})
	if err != nil {
		log.Warn("archive table: the tenant is not in the projection yet; the next run tries again", "table", f.Table.String(), "err", err)
	} else if len(added) > 0 {
		log.Info("archive table: tenant added to the projection", "table", f.Table.String(), "connector", connector)
	}
}
