package fleet

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

func TestDue(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	every15 := Connector{Interval: 15 * time.Minute}
	var due []string
	for i := 0; i < 6; i++ {
		at := base.Add(time.Duration(i)*5*time.Minute + 7*time.Second) // ticks a little late
		if every15.Due(at, 5*time.Minute) {
			due = append(due, at.Format("15:04"))
		}
		if !(Connector{}).Due(at, 5*time.Minute) {
			t.Errorf("a connector without an interval is not due at %s", at)
		}
	}
	if want := []string{"10:00", "10:15"}; !slices.Equal(due, want) {
		t.Errorf("15m connector due at %v, want %v", due, want)
	}
}

// Add, List, Dispatch and Remove against moto: connectors are found by prefix only, tags become
// interval and monitors, the due ones land one message each in the queue.
func TestFleetAgainstMoto(t *testing.T) {
	ctx := context.Background()
	m := awstest.Moto(t)
	cfg := m.AWSConfig(ctx)
	sm := secretsmanager.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)
	const prefix = "calm-collector/FleetTest/connectors/"

	for _, in := range []AddInput{
		{Name: "prod-eu10", Secret: []byte(`{"name":"x"}`)},
		{Name: "slow", Secret: []byte(`{}`), Interval: 15 * time.Minute, Monitors: []string{"hm", "events"}},
		{Name: "b", Secret: []byte(`{}`)},
	} {
		if _, err := Add(ctx, sm, prefix, in); err != nil {
			t.Fatalf("add %s: %v", in.Name, err)
		}
	}
	if _, err := Add(ctx, sm, prefix, AddInput{Name: "b", Secret: []byte(`{}`)}); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("adding b twice: %v; want an error saying it exists", err)
	}
	if _, err := Add(ctx, sm, prefix, AddInput{Name: "Bad_Name"}); err == nil {
		t.Error("a bad name was accepted")
	}
	// Not a connector of this stack: another prefix, and a longer name sharing the prefix's words.
	for _, n := range []string{"calm-collector/Other/connectors/x", "calm-collector/FleetTest/connectors-old/y"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
	}

	cs, err := List(ctx, sm, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
		if !strings.Contains(c.SecretID, ":secret:"+prefix+c.Name) {
			t.Errorf("%s: secret id %q is not the secret's ARN", c.Name, c.SecretID)
		}
	}
	if want := []string{"b", "prod-eu10", "slow"}; !slices.Equal(names, want) {
		t.Fatalf("List = %v, want %v", names, want)
	}
	if s := cs[2]; s.Interval != 15*time.Minute || !slices.Equal(s.Monitors, []string{"hm", "events"}) {
		t.Errorf("slow: interval %v monitors %v; want 15m [hm events]", s.Interval, s.Monitors)
	}

	qurl, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fleet-test")})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC) // not the first tick of a quarter hour: slow is not due
	n, err := Dispatch(ctx, q, *qurl.QueueUrl, at, 5*time.Minute, cs)
	if err != nil || n != 2 {
		t.Fatalf("Dispatch = %d, %v; want 2 messages", n, err)
	}
	got := receiveAll(t, q, *qurl.QueueUrl)
	if want := []string{"b", "prod-eu10"}; !slices.Equal(got, want) {
		t.Errorf("queued %v, want %v", got, want)
	}

	if err := Remove(ctx, sm, prefix, "b", 7); err != nil {
		t.Fatal(err)
	}
	if err := Remove(ctx, sm, prefix, "nobody", 7); err == nil || !strings.Contains(err.Error(), "no connector nobody") {
		t.Errorf("removing an unknown connector: %v", err)
	}
	cs, err = List(ctx, sm, prefix)
	if err != nil || len(cs) != 2 {
		t.Errorf("after removing b: %+v, %v; want 2 connectors", cs, err)
	}
}

func receiveAll(t *testing.T, q *sqs.Client, url string) []string {
	t.Helper()
	var got []string
	for range 5 {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var msg Message
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &msg); err != nil {
				t.Fatalf("message %q: %v", aws.ToString(m.Body), err)
			}
			got = append(got, msg.Connector)
		}
		if len(out.Messages) == 0 {
			break
		}
	}
	slices.Sort(got)
	return got
}
