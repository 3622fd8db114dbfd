package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

const (
	testTable  = "calm-state"
	testBucket = "calm-records"
	testSecret = "calm/sim"
)

// awsFixture creates the secret, the state table and the bucket the stack would create.
func awsFixture(t *testing.T, m *awstest.MotoServer, connector []byte) {
	t.Helper()
	ctx := context.Background()
	m.Reset(t)
	if _, err := m.SecretsClient().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(testSecret), SecretString: aws.String(string(connector))}); err != nil {
		t.Fatal(err)
	}
	if err := state.CreateTable(ctx, m.DynamoClient(), testTable); err != nil {
		t.Fatal(err)
	}
	if _, err := m.S3Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
}

// objects lists the keys under prefix.
func objects(t *testing.T, m *awstest.MotoServer, prefix string) []string {
	t.Helper()
	out, err := m.S3Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

// The built bootstrap under the Lambda RIE, with moto for Secrets Manager, DynamoDB and S3 and
// the simulator (on the real clock: the function reads time.Now) for Cloud ALM.
func TestBootstrapUnderRIEWithMotoAndSimulator(t *testing.T) {
	m := awstest.Moto(t)
	srv := sim.StartTest(t, sim.Config{})
	awsFixture(t, m, srv.ConnectorJSON())
	url := awstest.StartRIE(t, awstest.BuildBootstrap(t), []string{
		"AWS_REGION=" + awstest.Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"CALM_ENDPOINT_URL=" + m.Endpoint(), "CALM_SECRET_ID=" + testSecret, "CALM_STATE_TABLE=" + testTable,
		"CALM_SINKS=s3://" + testBucket + "/records", "CALM_MONITORS=hm,jam,status",
	})

	invoke := func(file string, rewrite func([]byte) []byte) collect.Summary {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		if rewrite != nil {
			b = rewrite(b)
		}
		var sum collect.Summary
		body := awstest.Invoke(t, url, b)
		if err := json.Unmarshal(body, &sum); err != nil {
			t.Fatalf("%s: answer is not a summary: %v\n%s", file, err, body)
		}
		if !sum.OK {
			t.Fatalf("%s: run not ok: %s", file, body)
		}
		return sum
	}

	s1 := invoke("collect-schedule.json", nil)
	if len(s1.Monitors) != 3 || s1.Monitors[0].Windows != 12 {
		t.Errorf("scheduled run: %+v", s1)
	}
	hmKeys := objects(t, m, "records/tenant=sim/monitor=hm/")
	if len(hmKeys) != 12 {
		t.Errorf("hm objects after the first run: %d, want 12 (one per window)", len(hmKeys))
	}
	// The EventBridge envelope: a second scheduled run right after delivers what became due.
	s2 := invoke("collect-scheduled-event.json", nil)
	if !s2.Monitors[0].From.Equal(s1.Monitors[0].To) {
		t.Errorf("second run started at %s, want the checkpoint %s", s2.Monitors[0].From, s1.Monitors[0].To)
	}
	// Backfill: move the sample's range to the two hours before the simulator's now.
	end := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	s3 := invoke("collect-backfill.json", func(b []byte) []byte {
		var in map[string]map[string]any
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		in["backfill"]["from"] = end.Add(-2 * time.Hour).Format(time.RFC3339)
		in["backfill"]["to"] = end.Format(time.RFC3339)
		b, _ = json.Marshal(in)
		return b
	})
	if s3.Mode != collect.ModeBackfill || len(s3.Monitors) != 2 || s3.Monitors[0].Windows != 24 {
		t.Errorf("backfill: %+v", s3)
	}
	day := end.Add(-2 * time.Hour).Format("2006-01-02")
	hour := end.Add(-2 * time.Hour).Format("15")
	if keys := objects(t, m, "records/tenant=sim/monitor=jam/dt="+day+"/hour="+hour+"/"); len(keys) == 0 {
		t.Errorf("no jam objects for the backfilled hour %s %s", day, hour)
	}
	// The checkpoints are in DynamoDB and the backfill left them alone.
	out, err := m.DynamoClient().GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(testTable),
		Key: map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "sim"}, "sk": &dtypes.AttributeValueMemberS{Value: "checkpoint#hm"}}})
	if err != nil || out.Item == nil {
		t.Fatalf("checkpoint item: %v %v", out, err)
	}
	if s := strings.Join(objects(t, m, "records/tenant=sim/monitor=status/"), ","); s == "" {
		t.Error("no status event objects")
	}
}
