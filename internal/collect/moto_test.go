package collect

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

// DynamoDB checkpoints and the S3 sink, end to end against moto: two scheduled runs put one
// object per window and move the checkpoint in the table; a backfill of delivered windows
// overwrites the same keys.
func TestScheduledRunsWithDynamoDBStateAndS3Sink(t *testing.T) {
	m := awstest.Moto(t)
	m.Reset(t)
	ctx := context.Background()
	if err := state.CreateTable(ctx, m.DynamoClient(), "state"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.S3Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("records")}); err != nil {
		t.Fatal(err)
	}
	cfg := m.AWSConfig(ctx)
	store, err := state.Open(ctx, "dynamodb://state", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	s3sink, err := sink.Open(ctx, "s3://records/p", sink.Deps{AWS: &cfg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "hm", "status")
	e.r.Store, e.r.Sinks = store, []Sink{s3sink, e.sink}

	keys := func(prefix string) int {
		out, err := m.S3Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("records"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Contents)
	}
	mustOK(t, e.r.Run(ctx, Request{}))
	e.clock.Advance(20 * time.Minute)
	mustOK(t, e.r.Run(ctx, Request{}))
	if n := keys("p/tenant=sim/monitor=hm/"); n != 16 {
		t.Errorf("hm objects = %d, want 16 (12 + 4 windows)", n)
	}
	if n := keys("p/tenant=sim/monitor=status/"); n == 0 {
		t.Error("no status objects")
	}
	cp, ok, err := store.Get(ctx, "sim", "hm")
	if err != nil || !ok || !cp.Next.Equal(ts("2026-11-25T10:25:00Z")) {
		t.Errorf("checkpoint = %+v %v %v", cp, ok, err)
	}
	marks, err := store.Marks(ctx, "sim", "status", e.r.Now())
	if err != nil || len(marks) == 0 {
		t.Errorf("marks = %d, %v", len(marks), err)
	}
	// A backfill of delivered windows writes the same keys again (no new objects).
	rng := Range{From: ts("2026-11-25T09:05:00Z"), To: ts("2026-11-25T10:05:00Z")}
	e.r.Config.Monitors = []string{"hm"}
	mustOK(t, e.r.Run(ctx, Request{Backfill: &rng}))
	if n := keys("p/tenant=sim/monitor=hm/"); n != 16 {
		t.Errorf("hm objects after the backfill = %d, want still 16", n)
	}
	if cp2, _, _ := store.Get(ctx, "sim", "hm"); !cp2.UpdatedAt.Equal(cp.UpdatedAt) {
		t.Error("the backfill touched the checkpoint")
	}
}
