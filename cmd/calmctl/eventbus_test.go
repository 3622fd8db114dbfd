package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
	"github.com/calm-collector/calm-collector/internal/awstest"
)

func TestCollectEventBusUsageErrors(t *testing.T) {
	t.Setenv("CALM_ALERT_RULES", "")
	var stdout, stderr bytes.Buffer
	if code := runCollect(context.Background(), []string{"--secret-file", "x", "--event-bus", "a b"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `--event-bus: "a b" is not an event bus name or ARN`) {
		t.Errorf("--event-bus 'a b' = %d, stderr %q", code, stderr.String())
	}
	t.Setenv("CALM_ALERT_RULES", `[{"name":"c","monitor":"hm","metric":"criticalStatus","op":">","threshold":0}]`)
	stderr.Reset()
	if code := runCollect(context.Background(), []string{"--secret-file", "x"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "CALM_ALERT_RULES: rules are set but --event-bus is empty") {
		t.Errorf("rules without --event-bus = %d, stderr %q", code, stderr.String())
	}
}

// calmctl collect --event-bus puts one event per status event it collects on the bus (a rule on
// moto forwards them to a queue), and a second run puts none while nothing changed.
func TestCollectEventBus(t *testing.T) {
	m := awstest.Moto(t)
	for k, v := range map[string]string{"AWS_REGION": awstest.Region, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"), "CALM_ENDPOINT_URL": m.Endpoint(), "CALM_ALERT_RULES": ""} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg := m.AWSConfig(ctx)
	events, queues := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	const bus = "calmctl-event-bus"
	queue := awstest.BusToQueue(t, events, queues, bus, "calmctl-event-bus", rules.Source)

	_, secret := startSim(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "records.ndjson")
	args := []string{"--secret-file", secret, "--monitors", "status", "--state", filepath.Join(dir, "state"), "--out", out, "--event-bus", bus}
	var stdout, stderr bytes.Buffer
	if code := runCollect(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("collect = %d: %s", code, stderr.String())
	}
	var want []string
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Kind       string            `json:"kind"`
			Attributes map[string]string `json:"attributes"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == "event" {
			want = append(want, r.Attributes["eventId"])
		}
	}
	if len(want) == 0 {
		t.Fatal("the simulator served no status event")
	}
	got := receivedEventIDs(t, queues, queue)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("events on the bus for event ids %v\nwant one per collected status event %v", got, want)
	}

	if code := runCollect(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("second collect = %d: %s", code, stderr.String())
	}
	if again := receivedEventIDs(t, queues, queue); len(again) != 0 {
		t.Errorf("the second run put events again for %v; nothing changed", again)
	}
}

// receivedEventIDs drains the queue and returns the status event id of each message.
func receivedEventIDs(t *testing.T, queues *sqs.Client, url string) []string {
	t.Helper()
	var ids []string
	for _, body := range awstest.DrainQueue(t, queues, url) {
		var ev struct {
			Source string `json:"source"`
			Detail struct {
				EventID string `json:"eventId"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.Source != rules.Source {
			t.Fatalf("message %s: %v", body, err)
		}
		ids = append(ids, ev.Detail.EventID)
	}
	return ids
}
