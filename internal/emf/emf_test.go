package emf

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func emfSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	ts := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	err := Write(&buf, ts, []MonitorStats{
		{Tenant: "prod-eu10", Monitor: "hm", Points: 12, Windows: 1, Requests: 3, Retries: 1, Throttled: 1, Lag: 150 * time.Second,
			Dropped: 2, Repeats: 5, Collisions: 1, DeadLettered: 3, Invariant: "inside"},
		{Tenant: "prod-eu10", Monitor: "bsm", Errors: 2, Lag: -time.Second},
	}, RunStats{Tenant: "prod-eu10", Duration: 1234567 * time.Microsecond, Success: false, Errors: 2, MaxLag: 150 * time.Second, APIBytes: 98765})
	if err != nil {
		t.Fatalf("EMF Write: %v", err)
	}
	return buf.Bytes()
}

// TestEMFRunLineCarriesTheVersion: the run's line names the release as a plain member (not a
// dimension: the directives stay those of the golden file).
func TestEMFRunLineCarriesTheVersion(t *testing.T) {
	var buf bytes.Buffer
	ts := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	if err := Write(&buf, ts, nil, RunStats{Tenant: "prod-eu10", Success: true, Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["version"] != "v1.2.3" || strings.Contains(buf.String(), `["version"]`) {
		t.Errorf("run line %s: want the member version v1.2.3 and no version dimension", buf.String())
	}
}

func TestEMFGolden(t *testing.T) {
	got := emfSample(t)
	path := filepath.Join("testdata", "emf.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("EMF output changed (run go test -update if intended)\n got:\n%s\nwant:\n%s", got, want)
	}
}

// cloudWatchUnits are the units CloudWatch accepts in EMF.
var cloudWatchUnits = strings.Fields(`Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes
Terabytes Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second
Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second
Gigabits/Second Terabits/Second Count/Second None`)

// TestEMFMatchesSpec checks every line against the rules of the EMF specification: a root
// "_aws" with an integer millisecond Timestamp and CloudWatchMetrics directives; each directive
// has a Namespace, Dimensions (sets of at most 30 names that are top-level string members) and
// Metrics (at most 100, each Name a top-level number member, Unit a CloudWatch unit).
func TestEMFMatchesSpec(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(string(emfSample(t)), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 monitors + 1 run", len(lines))
	}
	// Per line, per directive: the metrics and the one dimension set. Only MaxLagSeconds is by
	// tenant (one billed metric per tenant).
	monitor := []string{"Points", "Windows", "Requests", "Retries", "Throttled", "Errors", "LagSeconds", "Incomplete"}
	wantMetrics := [][][]string{{monitor}, {monitor}, {{"RunDuration", "RunSuccess", "RunIncomplete", "Errors", "MaxLagSeconds", "APIBytes", "Dropped", "Repeats", "Collisions", "DeadLettered"}, {"MaxLagSeconds"}}}
	wantDims := [][][]string{{{"monitor"}}, {{"monitor"}}, {nil, {"tenant"}}}
	for i, line := range lines {
		var doc map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		meta, ok := doc["_aws"].(map[string]any)
		if !ok {
			t.Fatalf("line %d has no _aws object", i)
		}
		if ts, ok := meta["Timestamp"].(json.Number); !ok || ts.String() != "1795601220000" {
			t.Errorf("line %d: Timestamp %v, want integer milliseconds 1795601220000", i, meta["Timestamp"])
		}
		directives, _ := meta["CloudWatchMetrics"].([]any)
		if len(directives) != len(wantDims[i]) {
			t.Fatalf("line %d: %d directives, want %d", i, len(directives), len(wantDims[i]))
		}
		if v, ok := doc["tenant"].(string); !ok || v == "" {
			t.Errorf("line %d: no tenant member for Logs Insights", i)
		}
		for j, dir := range directives {
			checkDirective(t, i, doc, dir.(map[string]any), wantDims[i][j], wantMetrics[i][j])
		}
	}
}

func checkDirective(t *testing.T, i int, doc, d map[string]any, wantDims, wantMetrics []string) {
	t.Helper()
	if d["Namespace"] != "CalmCollector" {
		t.Errorf("line %d: Namespace %v", i, d["Namespace"])
	}
	dimSets, _ := d["Dimensions"].([]any)
	if len(dimSets) != 1 {
		t.Fatalf("line %d: Dimensions %v, want one set", i, d["Dimensions"])
	}
	var dims []string
	for _, name := range dimSets[0].([]any) {
		s := name.(string)
		dims = append(dims, s)
		if v, ok := doc[s].(string); !ok || v == "" {
			t.Errorf("line %d: dimension %q has no non-empty string member", i, s)
		}
	}
	if !slices.Equal(dims, wantDims) || len(dims) > 30 {
		t.Errorf("line %d: dimensions %v, want %v", i, dims, wantDims)
	}
	var names []string
	for _, m := range d["Metrics"].([]any) {
		m := m.(map[string]any)
		name, unit := m["Name"].(string), m["Unit"].(string)
		names = append(names, name)
		if _, ok := doc[name].(json.Number); !ok {
			t.Errorf("line %d: metric %q has no number member (got %v)", i, name, doc[name])
		}
		if !slices.Contains(cloudWatchUnits, unit) {
			t.Errorf("line %d: metric %q has unit %q, not a CloudWatch unit", i, name, unit)
		}
	}
	if !slices.Equal(names, wantMetrics) {
		t.Errorf("line %d: metrics %v, want %v", i, names, wantMetrics)
	}
}

func TestEMFValues(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(emfSample(t)), []byte("\n"))
	var hm, bsm, run map[string]any
	for _, x := range []struct {
		line []byte
		into *map[string]any
	}{{lines[0], &hm}, {lines[1], &bsm}, {lines[2], &run}} {
		if err := json.Unmarshal(x.line, x.into); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, doc map[string]any, key string, want any) {
		t.Helper()
		if doc[key] != want {
			t.Errorf("%s %s = %v, want %v", what, key, doc[key], want)
		}
	}
	check("hm", hm, "monitor", "hm")
	check("hm", hm, "Points", 12.0)
	check("hm", hm, "Throttled", 1.0)
	check("hm", hm, "LagSeconds", 150.0)
	check("bsm", bsm, "Errors", 2.0)
	check("bsm", bsm, "LagSeconds", 0.0) // a negative lag counts as none
	check("run", run, "RunDuration", 1234.567)
	check("run", run, "RunSuccess", 0.0)
	check("run", run, "MaxLagSeconds", 150.0)
	check("run", run, "APIBytes", 98765.0)
	if _, ok := run["monitor"]; ok {
		t.Error("the run line has a monitor member")
	}
}

func TestEMFErrors(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, time.Now(), nil, RunStats{})
	if err == nil || err.Error() != "emf: run without tenant" {
		t.Errorf("Write without tenant = %v", err)
	}
	err = Write(&buf, time.Now(), []MonitorStats{{Tenant: "t"}}, RunStats{Tenant: "t"})
	if err == nil || !strings.Contains(err.Error(), `emf: monitor stats 0 without tenant or monitor (tenant "t", monitor "")`) {
		t.Errorf("Write with an unnamed monitor = %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("a failed Write wrote %q", buf.String())
	}
	var ok bytes.Buffer
	if err := Write(&ok, time.Now(), nil, RunStats{Tenant: "t", Success: true}); err != nil || !strings.Contains(ok.String(), `"RunSuccess":1`) {
		t.Errorf("Write of a good run = %q, %v", ok.String(), err)
	}
}
