package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// leaseGauge counts the tenants whose lease is held at the same time: the concurrency the
// collections really had, whatever drove them.
type leaseGauge struct {
	collect.Store
	now, peak atomic.Int64
}

func (g *leaseGauge) Acquire(ctx context.Context, tenant, owner string, ttl time.Duration) (state.Lease, error) {
	l, err := g.Store.Acquire(ctx, tenant, owner, ttl)
	if err == nil {
		n := g.now.Add(1)
		for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
	}
	return l, err
}

func (g *leaseGauge) Release(ctx context.Context, l state.Lease) error {
	g.now.Add(-1)
	return g.Store.Release(ctx, l)
}

// fanoutTenants is how many tenants TestFanOut runs: 40 in make test, CALM_FANOUT_TENANTS (1000 in
// make bench) otherwise.
func fanoutTenants(t *testing.T) int {
	if v := os.Getenv("CALM_FANOUT_TENANTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("CALM_FANOUT_TENANTS=%q: want a whole number of at least 2", v)
		}
		return n
	}
	return 40
}

// The real dispatch path, locally: connectors are secrets under the prefix in moto, the tick's
// Dispatch queues one message each into a moto SQS queue whose redrive policy dead-letters after
// two receives, and a poller standing in for the event-source mapping (maximum concurrency
// `bound`, batch size 1) hands each message to the function's Invoke. State is DynamoDB in
// moto, Cloud ALM the simulator. Every tenant's windows are delivered once, the bound holds,
// and the one tenant with a wrong client secret is dead-lettered without holding up the others.
func TestFanOut(t *testing.T) {
	const bound, prefix, table = 8, "calm-collector/FanOut/connectors/", "calm-fanout"
	n := fanoutTenants(t)
	ctx := context.Background()
	m := awstest.Moto(t)
	m.Reset(t)
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }})
	awsCfg := m.AWSConfig(ctx)
	sm, q := secretsmanager.NewFromConfig(awsCfg), sqs.NewFromConfig(awsCfg)

	good := srv.ServiceKeyJSON() // no "name": each tenant is its connector's name
	var broken map[string]any
	if err := json.Unmarshal(good, &broken); err != nil {
		t.Fatal(err)
	}
	broken["uaa"].(map[string]any)["clientsecret"] = "wrong"
	bad, _ := json.Marshal(broken)
	for i := range n {
		secret := good
		if i == n/2 {
			secret = bad
		}
		if _, err := fleet.Add(ctx, sm, prefix, fleet.AddInput{Name: fmt.Sprintf("t%04d", i), Secret: secret}); err != nil {
			t.Fatal(err)
		}
	}
	// The stack's placeholder, never filled in: listed, not queued (it could only fail and
	// keep the dead-letter alarm firing), named in the answer.
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(prefix + "unfilled"),
		SecretString: aws.String(`{"name":"unfilled","placeholder":"fill in"}`),
		Tags:         []smtypes.Tag{{Key: aws.String(fleet.TagPlaceholder), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	brokenName := fmt.Sprintf("t%04d", n/2)
	dlq := createQueue(t, q, "fanout-dlq", nil)
	dlqArn := queueArn(t, q, dlq)
	work := createQueue(t, q, "fanout-work", map[string]string{
		// Longer than any run here, as the stack's 30 minutes are longer than the function's
		// timeout; poll shortens it for a failed message only.
		"VisibilityTimeout": "120",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqArn),
	})

	if err := state.CreateTable(ctx, m.DynamoClient(), table); err != nil {
		t.Fatal(err)
	}
	ddb, err := state.Open(ctx, state.DynamoPrefix+table, &awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	gauge := &leaseGauge{Store: ddb}
	ms := &testkit.MemSink[sink.Batch]{}
	cfg := collect.DefaultConfig()
	cfg.Monitors = []string{"hm"}
	h := &Handler{Config: cfg, Secrets: newSecretReader(awsCfg, time.Minute, prefix), Store: gauge, Sinks: []collect.Sink{ms},
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Fleet: &Fleet{Prefix: prefix, Secrets: sm, Queue: q, QueueURL: work, Period: 5 * time.Minute}}

	start := time.Now()
	out, err := h.Invoke(ctx, json.RawMessage(`{"dispatch":true}`))
	if sum, _ := out.(DispatchSummary); err != nil || sum.Queued != n || sum.Connectors != n+1 || !slices.Equal(sum.Unfilled, []string{"unfilled"}) {
		t.Fatalf("dispatch: %+v, %v; want %d queued of %d, unfilled named", out, err, n, n+1)
	}
	failures := poll(t, q, work, bound, h)
	wall := time.Since(start)

	perTenant := map[string]map[time.Time]int{}
	for _, b := range ms.Batches() {
		if perTenant[b.Tenant] == nil {
			perTenant[b.Tenant] = map[time.Time]int{}
		}
		perTenant[b.Tenant][b.From]++
	}
	for i := range n {
		name := fmt.Sprintf("t%04d", i)
		w := perTenant[name]
		if name == brokenName {
			if len(w) != 0 {
				t.Errorf("the broken tenant delivered %d windows", len(w))
			}
			continue
		}
		if len(w) != 12 {
			t.Errorf("%s: %d windows delivered, want the 12 of the look-back hour", name, len(w))
		}
		for from, c := range w {
			if c != 1 {
				t.Errorf("%s: window %s delivered %d times", name, from.Format("15:04"), c)
			}
		}
	}
	if p := gauge.peak.Load(); p > bound || p < 2 {
		t.Errorf("peak concurrent tenants %d, want 2..%d", p, bound)
	}
	if failures[brokenName] != 2 || len(failures) != 1 {
		t.Errorf("failed messages per tenant %v; want only %s, failed twice (maxReceiveCount)", failures, brokenName)
	}
	if dead := drain(t, q, dlq); len(dead) != 1 || dead[0] != brokenName {
		t.Errorf("dead letters %v, want [%s]", dead, brokenName)
	}
	t.Logf("fan-out: %d tenants, bound %d: wall %v, peak concurrent tenants %d, %d windows delivered",
		n, bound, wall.Round(time.Millisecond), gauge.peak.Load(), len(ms.Batches()))
}

// poll stands in for the SQS event-source mapping: `bound` workers, each receiving one message
// at a time and invoking the handler with it as an SQS event; a message named in the batch
// failures is left to become visible again, the others are deleted. It returns when the queue
// stays empty, with the failures per connector.
func poll(t *testing.T, q *sqs.Client, url string, bound int, h *Handler) map[string]int {
	var mu sync.Mutex
	failures := map[string]int{}
	var reqs atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	for range bound {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
					MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
				if err != nil {
					t.Error(err)
					return
				}
				if len(out.Messages) == 0 {
					done.Store(queueEmpty(t, q, url))
					continue
				}
				msg := out.Messages[0]
				ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(msg.MessageId), Body: aws.ToString(msg.Body), EventSource: "aws:sqs"}}}
				raw, _ := json.Marshal(ev)
				// Each invocation has its own request id, hence its own lease owner, as in Lambda.
				ictx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprintf("req-%d", reqs.Add(1))})
				res, err := h.Invoke(ictx, raw)
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.(events.SQSEventResponse).BatchItemFailures) > 0 {
					var body fleet.Message
					_ = json.Unmarshal([]byte(ev.Records[0].Body), &body)
					mu.Lock()
					failures[body.Connector]++
					mu.Unlock()
					// Visible again in a second instead of at the end of the visibility
					// timeout (30 minutes in the stack): the same retry, sooner.
					if _, err := q.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url),
						ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: 1}); err != nil {
						t.Error(err)
					}
					continue
				}
				if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	return failures
}

// queueEmpty reports whether the queue holds no message, visible or in flight (a failed one
// waiting out its visibility timeout counts: the next receive dead-letters it).
func queueEmpty(t *testing.T, q *sqs.Client, url string) bool {
	out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Error(err)
		return true
	}
	return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
}

func createQueue(t *testing.T, q *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := q.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func queueArn(t *testing.T, q *sqs.Client, url string) string {
	t.Helper()
	out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

func drain(t *testing.T, q *sqs.Client, url string) []string {
	t.Helper()
	var got []string
	out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range out.Messages {
		var body fleet.Message
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &body); err != nil {
			t.Fatal(err)
		}
		got = append(got, body.Connector)
	}
	return got
}
