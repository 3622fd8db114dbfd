package analytics

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sink"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

// A fixed clock: the simulator's data and the windows depend on it, never on the wall clock.
var testNow = time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)

// archive collects every monitor of the simulator for the last hour into an S3 sink on moto
// and returns the bucket's objects: key → NDJSON lines.
func archive(t *testing.T, bucket, prefix string) map[string][]string {
	t.Helper()
	m := awstest.Moto(t)
	ctx := context.Background()
	client := m.S3Client()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	cfg := m.AWSConfig(ctx)
	s3sink, err := sink.Open(ctx, "s3://"+bucket+"/"+prefix, sink.Deps{AWS: &cfg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rc := collect.DefaultConfig()
	rc.Monitors = []string{"all"}
	collectSim(t, rc, s3sink)

	objects := map[string][]string{}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			objects[*o.Key] = readLines(t, client, bucket, *o.Key)
		}
	}
	return objects
}

func readLines(t *testing.T, client *s3.Client, bucket, key string) []string {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", key, err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
}

// The Athena table reads what the S3 sink writes: every key of every archived object matches the
// projection template (so the object is in a projected partition), the partition values agree
// with the records inside, and every field of every record is a column or partition key of the
// type the table declares, and every column is a field the records carry.
func TestTableMatchesTheS3SinksObjects(t *testing.T) {
	const bucket, prefix = "athena-archive", "records"
	objects := archive(t, bucket, prefix)
	params := TableParameters(bucket, prefix, []string{"sim"})
	re, err := KeyPattern(params)
	if err != nil {
		t.Fatal(err)
	}

	types := map[string]string{}
	for _, c := range slices.Concat(Columns, PartitionKeys) {
		types[c.Name] = c.Type
	}
	seenFields := map[string]bool{}
	seenMonitors := map[string]bool{}
	records := 0
	for key, lines := range objects {
		m := re.FindStringSubmatch(key)
		if m == nil {
			t.Errorf("object %s does not match the projection template %s", key, params["storage.location.template"])
			continue
		}
		part := map[string]string{}
		for i, name := range re.SubexpNames() {
			if name != "" {
				part[name] = m[i]
			}
		}
		if h, err := strconv.Atoi(part["hour"]); err != nil || h > 23 {
			t.Errorf("object %s: hour %q is outside the projection's range 0,23", key, part["hour"])
		}
		seenMonitors[part["monitor"]] = true
		for _, line := range lines {
			records++
			checkRecord(t, key, line, part, types, seenFields)
		}
	}
	if records == 0 {
		t.Fatal("the collection archived no records")
	}
	for _, c := range slices.Concat(Columns, PartitionKeys[:2]) {
		if !seenFields[c.Name] {
			t.Errorf("column %s: no archived record has the field %q", c.Name, c.Name)
		}
	}
	for _, id := range collect.MonitorIDs() {
		if !seenMonitors[id] {
			t.Errorf("monitor %s: no archived object (the simulator serves data for every monitor)", id)
		}
	}
}

// checkRecord checks one NDJSON line against the table and the partition it lies in.
func checkRecord(t *testing.T, key, line string, part, types map[string]string, seen map[string]bool) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		t.Errorf("%s: line is not a JSON object: %v: %s", key, err, line)
		return
	}
	for field, v := range rec {
		seen[field] = true
		typ, ok := types[field]
		if !ok {
			t.Errorf("%s: record field %q has no column in the Athena table", key, field)
			continue
		}
		if !fitsType(v, typ) {
			t.Errorf("%s: field %q = %#v does not fit the column type %s", key, field, v, typ)
		}
	}
	for _, pk := range []string{"tenant", "monitor"} {
		if rec[pk] != part[pk] {
			t.Errorf("%s: record %s %q lies in partition %s=%q", key, pk, rec[pk], pk, part[pk])
		}
	}
	// dt and hour are of the window start, which holds the record: except a status event, whose
	// time is the event's start and which is delivered in the window it was seen in.
	if rec["kind"] == "event" {
		return
	}
	at, err := time.Parse(time.RFC3339Nano, rec["time"].(string))
	if err != nil {
		t.Errorf("%s: time %v: %v", key, rec["time"], err)
		return
	}
	if got := at.Format("2006-01-02") + "/" + at.Format("15"); got != part["dt"]+"/"+part["hour"] {
		t.Errorf("%s: record time %s is not in partition dt=%s/hour=%s", key, rec["time"], part["dt"], part["hour"])
	}
}

func fitsType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "double":
		switch x := v.(type) {
		case json.Number:
			_, err := x.Float64()
			return err == nil
		case string: // non-finite values; the SerDe reads them as NULL
			return x == "NaN" || x == "+Inf" || x == "-Inf"
		}
		return false
	case "map<string,string>":
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for _, e := range m {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}
