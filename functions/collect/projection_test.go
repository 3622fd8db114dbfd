package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/calm-collector/calm-collector/analytics"
	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/awstest/athenatest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/fleet/projection"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

func TestEnvFromReadsArchiveTable(t *testing.T) {
	base := map[string]string{"CALM_SECRET_ID": "arn:x", "CALM_STATE_TABLE": "calm-state", "CALM_ARCHIVE_TABLE": "calmcollector.records"}
	s, err := envFrom(func(k string) string { return base[k] })
	if err != nil || s.archiveTable != (projection.ArchiveTable{Database: "calmcollector", Table: "records"}) {
		t.Fatalf("archiveTable = %+v, %v", s.archiveTable, err)
	}
	base["CALM_ARCHIVE_TABLE"] = "records"
	base["CALM_STATE_TABLE"] = ""
	_, err = envFrom(func(k string) string { return base[k] })
	for _, want := range []string{"CALM_STATE_TABLE: missing", `CALM_ARCHIVE_TABLE: "records" is not DATABASE.TABLE`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("envFrom error = %v\nwant it to contain %s", err, want)
		}
	}
}

// A tenant added at run time is queryable in Athena without a deploy: on moto, the archive table
// is created as the stack declares it with the deploy-time tenant "ctx"; connectors added with
// the fleet API are part of its tenant projection after one schedule tick, a tenant named in its
// service key (not after its connector) once its run starts, and every object the S3 sink then
// writes matches the projection as Glue holds it (none did before the tick).
func TestTickAddsNewTenantToTheArchiveTable(t *testing.T) {
	const prefix, bucket, stateTable = "calm-collector/Projection/connectors/", "projection-archive", "calm-projection"
	ctx := context.Background()
	m := awstest.Moto(t)
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }})
	awsCfg := m.AWSConfig(ctx)
	sm, q, g := secretsmanager.NewFromConfig(awsCfg), sqs.NewFromConfig(awsCfg), glue.NewFromConfig(awsCfg)
	table := projection.ArchiveTable{Database: "projection", Table: analytics.TableName}
	athenatest.CreateArchiveTable(t, g, table.Database, bucket, "records", []string{"ctx"})
	paramsBefore := glueParams(t, g, table)
	if _, err := m.S3Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	archive, err := sink.Open(ctx, "s3://"+bucket+"/records", sink.Deps{AWS: &awsCfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := state.CreateTable(ctx, m.DynamoClient(), stateTable); err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(ctx, state.DynamoPrefix+stateTable, &awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	// No "name" in the key: the tenant is the connector's name.
	if _, err := fleet.Add(ctx, sm, prefix, fleet.AddInput{Name: "added", Secret: srv.ServiceKeyJSON()}); err != nil {
		t.Fatal(err)
	}
	// A "name" in the key: the tenant is that name, not the connector's.
	var named map[string]any
	if err := json.Unmarshal(srv.ServiceKeyJSON(), &named); err != nil {
		t.Fatal(err)
	}
	named["name"] = "othername"
	namedKey, _ := json.Marshal(named)
	if _, err := fleet.Add(ctx, sm, prefix, fleet.AddInput{Name: "renamed", Secret: namedKey}); err != nil {
		t.Fatal(err)
	}
	work := createQueue(t, q, "projection-work", nil)
	cfg := collect.DefaultConfig()
	cfg.Monitors = []string{"hm", "status"}
	h := &Handler{Config: cfg, Secrets: newSecretReader(awsCfg, time.Minute, prefix), Store: store, Sinks: []collect.Sink{archive},
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Fleet: &Fleet{Prefix: prefix, Secrets: sm, Queue: q, QueueURL: work, Period: 5 * time.Minute, Glue: &projection.Glue{AWS: awsCfg}, Table: table}}

	sum, err := h.Dispatch(ctx)
	if err != nil || sum.Error != "" || !slices.Equal(sum.Projected, []string{"added", "renamed"}) || sum.Queued != 2 {
		t.Fatalf("tick = %+v, %v; want connectors added and renamed projected and queued", sum, err)
	}
	if got := glueParams(t, g, table)[analytics.ParamTenantValues]; got != "ctx,added,renamed" {
		t.Errorf("tenant projection after one tick = %q, want ctx,added,renamed", got)
	}
	for _, name := range drain(t, q, work) {
		body, _ := json.Marshal(fleet.Message{Connector: name})
		if _, err := h.Handle(ctx, body); err != nil {
			t.Fatalf("collect %s: %v", name, err)
		}
	}
	// The run of connector renamed added its tenant's own name before it wrote.
	params := glueParams(t, g, table)
	if got := params[analytics.ParamTenantValues]; got != "ctx,added,renamed,othername" {
		t.Errorf("tenant projection after the runs = %q, want ctx,added,renamed,othername", got)
	}

	after, err := analytics.KeyPattern(params)
	if err != nil {
		t.Fatal(err)
	}
	before, err := analytics.KeyPattern(paramsBefore)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.S3Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) == 0 {
		t.Fatal("the collection of the new tenant archived nothing")
	}
	tenants := map[string]int{}
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		m := after.FindStringSubmatch(key)
		if len(m) == 0 {
			t.Errorf("object %s is not in a partition of the projection %s", key, params["storage.location.template"])
			continue
		}
		tenants[m[after.SubexpIndex("tenant")]]++
		if before.MatchString(key) {
			t.Errorf("object %s matched the projection before the tick; the test proves nothing", key)
		}
	}
	if tenants["added"] == 0 || tenants["othername"] == 0 || len(tenants) != 2 {
		t.Errorf("objects per tenant %v; want some of added and othername only", tenants)
	}
}

func glueParams(t *testing.T, g *glue.Client, table projection.ArchiveTable) map[string]string {
	t.Helper()
	out, err := g.GetTable(context.Background(), &glue.GetTableInput{DatabaseName: aws.String(table.Database), Name: aws.String(table.Table)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Table.Parameters
}
