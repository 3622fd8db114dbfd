package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

func TestS3Key(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		prefix string
		b      Batch
		want   string
	}{
		{"records", Batch{Tenant: "prod-eu10", Monitor: "hm", From: from, To: from.Add(5 * time.Minute)},
			"records/tenant=prod-eu10/monitor=hm/dt=2026-11-25/hour=10/20261125T100500Z-20261125T101000Z.ndjson.gz"},
		{"/a/b/", Batch{Tenant: "t", Monitor: "m", From: time.Date(2026, 11, 25, 23, 55, 0, 0, time.UTC), To: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
			"a/b/tenant=t/monitor=m/dt=2026-11-25/hour=23/20261125T235500Z-20261126T000000Z.ndjson.gz"},
		// dt and hour come from the window start in UTC, whatever zone the caller used
		{"", Batch{Tenant: "t", Monitor: "m", From: time.Date(2026, 11, 26, 0, 30, 0, 0, cet), To: time.Date(2026, 11, 26, 0, 35, 0, 0, cet)},
			"tenant=t/monitor=m/dt=2026-11-25/hour=23/20261125T233000Z-20261125T233500Z.ndjson.gz"},
		// late data of a window: an object beside the window's, named by the points before it
		{"records", Batch{Tenant: "prod-eu10", Monitor: "hm", From: from, To: from.Add(5 * time.Minute), Late: true, Before: 90},
			"records/tenant=prod-eu10/monitor=hm/dt=2026-11-25/hour=10/20261125T100500Z-20261125T101000Z-late90.ndjson.gz"},
		{"records", Batch{Tenant: "prod-eu10", Monitor: "hm", From: from, To: from.Add(5 * time.Minute), Late: true},
			"records/tenant=prod-eu10/monitor=hm/dt=2026-11-25/hour=10/20261125T100500Z-20261125T101000Z-late0.ndjson.gz"},
		// a tenant or monitor can add neither a level nor a partition
		{"p", Batch{Tenant: "../x/monitor=evil", Monitor: "a b%ü", From: from, To: from.Add(time.Hour)},
			"p/tenant=..%2Fx%2Fmonitor%3Devil/monitor=a%20b%25%C3%BC/dt=2026-11-25/hour=10/20261125T100500Z-20261125T110500Z.ndjson.gz"},
	} {
		s, err := NewS3(nil, "bucket", tc.prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Key(tc.b); got != tc.want {
			t.Errorf("Key(prefix %q, %s/%s) =\n %s\nwant\n %s", tc.prefix, tc.b.Tenant, tc.b.Monitor, got, tc.want)
		}
	}
}

func TestS3RejectsBadBatches(t *testing.T) {
	s, _ := NewS3(nil, "bucket", "p", nil) // a nil client: these must fail before any request
	ctx := context.Background()
	b := batch("", "hm", 1, 0)
	if err := s.Write(ctx, b); err == nil || !strings.Contains(err.Error(), `batch without tenant or monitor (tenant "", monitor "hm")`) {
		t.Errorf("Write without tenant = %v", err)
	}
	b = batch("t", "hm", 1, 0)
	b.To = b.From
	if err := s.Write(ctx, b); err == nil || !strings.Contains(err.Error(), "is empty or reversed") {
		t.Errorf("Write of an empty window = %v", err)
	}
}

// s3Setup returns a sink on moto writing to a fresh bucket, and the client to look at it.
func s3Setup(t *testing.T, bucket string) (*S3, *s3.Client) {
	t.Helper()
	moto := awstest.Moto(t)
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx)
	client := moto.S3Client()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	s, err := Open(ctx, "s3://"+bucket+"/records", Deps{AWS: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*S3), client
}

func listKeys(t *testing.T, client *s3.Client, bucket string) []string {
	t.Helper()
	out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

// getObject returns the object's headers and its gunzipped body.
func getObject(t *testing.T, client *s3.Client, bucket, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("object %s is not gzip: %v", key, err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip %s: %v", key, err)
	}
	return out, body
}

func TestS3WritesOneObjectPerWindowAndOverwritesOnRedelivery(t *testing.T) {
	ctx := context.Background()
	const bucket = "sink-redelivery"
	s, client := s3Setup(t, bucket)
	if s.Name() != "s3://"+bucket+"/records" {
		t.Errorf("Name() = %q", s.Name())
	}

	first := batch("prod-eu10", "hm", 3, 0)
	if err := s.Write(ctx, first); err != nil {
		t.Fatalf("Write: %v", err)
	}
	key := "records/tenant=prod-eu10/monitor=hm/dt=2026-11-25/hour=10/20261125T100500Z-20261125T101000Z.ndjson.gz"
	if keys := listKeys(t, client, bucket); len(keys) != 1 || keys[0] != key {
		t.Fatalf("objects %v, want just %s", keys, key)
	}
	out, body := getObject(t, client, bucket, key)
	if aws.ToString(out.ContentType) != "application/x-ndjson" || aws.ToString(out.ContentEncoding) != "gzip" {
		t.Errorf("content type %q, encoding %q", aws.ToString(out.ContentType), aws.ToString(out.ContentEncoding))
	}
	assertRecords(t, decodeLines(t, body), first)

	// the same window again, now with one more (late) point: same key, replaced content
	again := batch("prod-eu10", "hm", 4, 0)
	if err := s.Write(ctx, again); err != nil {
		t.Fatalf("Write again: %v", err)
	}
	if keys := listKeys(t, client, bucket); len(keys) != 1 || keys[0] != key {
		t.Fatalf("after re-delivery objects %v, want just %s", keys, key)
	}
	_, body = getObject(t, client, bucket, key)
	assertRecords(t, decodeLines(t, body), again)

	// the next window and another monitor get objects of their own
	next := batch("prod-eu10", "hm", 1, 0)
	next.From, next.To = next.To, next.To.Add(5*time.Minute)
	if err := s.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, batch("prod-eu10", "bsm", 1, 0)); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, client, bucket); len(keys) != 3 {
		t.Errorf("objects %v, want 3", keys)
	}
}

func TestS3SameBatchSameBytes(t *testing.T) {
	ctx := context.Background()
	const bucket = "sink-same-bytes"
	s, client := s3Setup(t, bucket)
	b := batch("t", "hm", 5, 0)
	var etags []string
	for range 2 {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.Key(b))})
		if err != nil {
			t.Fatal(err)
		}
		etags = append(etags, aws.ToString(head.ETag))
	}
	if etags[0] == "" || etags[0] != etags[1] {
		t.Errorf("re-delivering the same batch changed the object: ETags %v", etags)
	}
}

func TestS3EmptyBatchWritesNothing(t *testing.T) {
	const bucket = "sink-empty"
	s, client := s3Setup(t, bucket)
	if err := s.Write(context.Background(), Batch{Tenant: "t", Monitor: "hm", From: from, To: from.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, client, bucket); len(keys) != 0 {
		t.Errorf("an empty batch wrote %v", keys)
	}
}

func TestS3MissingBucket(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx)
	s, err := Open(ctx, "s3://no-such-bucket/records", Deps{AWS: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, batch("t", "hm", 1, 0))
	want := `s3://no-such-bucket/records: put records/tenant=t/monitor=hm/dt=2026-11-25/hour=10/20261125T100500Z-20261125T101000Z.ndjson.gz: bucket "no-such-bucket" does not exist: create it or fix the sink spec`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Write to a missing bucket = %v\nwant it to contain %s", err, want)
	}
}

// Path-style addressing comes from the caller (an S3-only endpoint) or the config's endpoint
// override, never from the environment: the test sets AWS_ENDPOINT_URL_S3 to show it is not read.
func TestNewS3ClientPathStyle(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
	for _, tc := range []struct {
		endpoint  *string
		pathStyle bool
		want      bool
	}{{nil, false, false}, {nil, true, true}, {aws.String("http://127.0.0.1:1"), false, true}} {
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: tc.endpoint}
		if got := NewS3Client(cfg, tc.pathStyle).Options().UsePathStyle; got != tc.want {
			t.Errorf("endpoint %v, pathStyle %v: UsePathStyle %v, want %v", tc.endpoint != nil, tc.pathStyle, got, tc.want)
		}
	}
}
