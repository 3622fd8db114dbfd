package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const pagePoints = 5000

// otlpPage returns an OTLP JSON page shaped like a Cloud ALM raw-data response: 20 services
// (resources with 5 attributes), 10 metrics each, 25 points per metric (5000 points in all),
// every point with 3 attributes of its own.
func otlpPage(tb testing.TB) []byte {
	tb.Helper()
	md := pmetric.NewMetrics()
	for s := range 20 {
		rm := md.ResourceMetrics().AppendEmpty()
		ra := rm.Resource().Attributes()
		ra.PutStr("serviceId", fmt.Sprintf("6f1c2a3b-%04d-4e5f-8a9b-0c1d2e3f4a5b", s))
		ra.PutStr("serviceName", fmt.Sprintf("S4H.%03d", s))
		ra.PutStr("serviceType", "SAP S/4HANA Cloud")
		ra.PutStr("systemNumber", strconv.Itoa(100000+s))
		ra.PutStr("dataCenter", "eu10")
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		for m := range 10 {
			metric := ms.AppendEmpty()
			metric.SetName(fmt.Sprintf("calm.hm.metric_%d", m))
			metric.SetUnit("%")
			dps := metric.SetEmptyGauge().DataPoints()
			for p := range 25 {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(p) * time.Minute)))
				dp.SetDoubleValue(float64(p*m) + 0.25)
				dp.Attributes().PutStr("metricName", fmt.Sprintf("metric_%d", m))
				dp.Attributes().PutStr("category", "Performance")
				dp.Attributes().PutStr("instance", fmt.Sprintf("host-%d:443", p%3))
			}
		}
	}
	page, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
	if err != nil {
		tb.Fatal(err)
	}
	if md.DataPointCount() != pagePoints {
		tb.Fatalf("page has %d points, want %d", md.DataPointCount(), pagePoints)
	}
	return page
}

func reportPoints(b *testing.B) {
	b.ReportMetric(float64(pagePoints)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkDecodeMapEncode is our path: OTLP JSON page -> pmetric -> records -> NDJSON.
func BenchmarkDecodeMapEncode(b *testing.B) {
	benchDecodeMapEncode(b, otlpPage(b), &pmetric.JSONUnmarshaler{})
}

// BenchmarkDecodeMapEncodeBinary is BenchmarkDecodeMapEncode on the same page as the metrics
// API serves it with format=protobuf-binary: pdata's protobuf unmarshaler instead of its JSON
// one (docs/transfer.md). TestBinaryPageAgrees keeps it writing the same lines.
func BenchmarkDecodeMapEncodeBinary(b *testing.B) {
	benchDecodeMapEncode(b, binaryPage(b), &pmetric.ProtoUnmarshaler{})
}

// benchDecodeMapEncode decodes page with u, maps it to records and encodes them as NDJSON.
func benchDecodeMapEncode(b *testing.B, page []byte, u pmetric.Unmarshaler) {
	var recs []Record
	var out []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for b.Loop() {
		md, err := u.UnmarshalMetrics(page)
		if err != nil {
			b.Fatal(err)
		}
		recs = AppendFromMetrics(recs[:0], "prod-eu10", "hm", md)
		out = out[:0]
		for i := range recs {
			out = AppendJSON(out, &recs[i])
			out = append(out, '\n')
		}
		if len(recs) != pagePoints {
			b.Fatalf("got %d records", len(recs))
		}
	}
	reportPoints(b)
}

// binaryPage is otlpPage in OTLP protobuf.
func binaryPage(tb testing.TB) []byte {
	tb.Helper()
	md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(otlpPage(tb))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestBinaryPageAgrees: the binary page decodes to the same records, written the same.
func TestBinaryPageAgrees(t *testing.T) {
	lines := func(md pmetric.Metrics) []byte {
		var out []byte
		recs := AppendFromMetrics(nil, "prod-eu10", "hm", md)
		for i := range recs {
			out = append(AppendJSON(out, &recs[i]), '\n')
		}
		return out
	}
	jm, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(otlpPage(t))
	if err != nil {
		t.Fatal(err)
	}
	bm, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(binaryPage(t))
	if err != nil {
		t.Fatal(err)
	}
	if j, b := lines(jm), lines(bm); len(j) == 0 || string(j) != string(b) {
		t.Errorf("binary page writes %d bytes of records, JSON page %d, or they differ", len(b), len(j))
	}
}

// BenchmarkReferenceMaps is the named reference: the same page through plain encoding/json into
// map[string]any, records built as maps (with the same ids), and json.Marshal per line.
func BenchmarkReferenceMaps(b *testing.B) {
	page := otlpPage(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for b.Loop() {
		out, n, err := referenceMaps(page, "prod-eu10", "hm")
		if err != nil {
			b.Fatal(err)
		}
		if n != pagePoints || len(out) == 0 {
			b.Fatalf("got %d records", n)
		}
	}
	reportPoints(b)
}

// TestReferenceMapsAgrees keeps the reference honest: it must write the same lines as our path.
func TestReferenceMapsAgrees(t *testing.T) {
	page := otlpPage(t)
	ref, n, err := referenceMaps(page, "prod-eu10", "hm")
	if err != nil || n != pagePoints {
		t.Fatalf("reference: %d records, %v", n, err)
	}
	md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(page)
	if err != nil {
		t.Fatal(err)
	}
	var ours []byte
	for _, r := range AppendFromMetrics(nil, "prod-eu10", "hm", md) {
		ours = append(AppendJSON(ours, &r), '\n')
	}
	// a map writes its keys sorted, so compare line by line as decoded JSON
	ol, rl := bytes.Split(ours, []byte("\n")), bytes.Split(ref, []byte("\n"))
	if len(ol) != len(rl) {
		t.Fatalf("ours has %d lines, the reference %d", len(ol), len(rl))
	}
	for i := range ol {
		var o, r any
		_ = json.Unmarshal(ol[i], &o)
		_ = json.Unmarshal(rl[i], &r)
		if !reflect.DeepEqual(o, r) {
			t.Fatalf("line %d differs\n ours: %s\n  ref: %s", i, ol[i], rl[i])
		}
	}
}

func referenceMaps(page []byte, tenant, monitor string) ([]byte, int, error) {
	var doc map[string]any
	if err := json.Unmarshal(page, &doc); err != nil {
		return nil, 0, err
	}
	attrsOf := func(list any, into map[string]string) {
		for _, a := range asSlice(list) {
			kv := a.(map[string]any)
			v := kv["value"].(map[string]any)
			for _, x := range v {
				into[kv["key"].(string)] = fmt.Sprint(x)
			}
		}
	}
	var out []byte
	n := 0
	for _, rm := range asSlice(doc["resourceMetrics"]) {
		rmm := rm.(map[string]any)
		res := map[string]string{}
		if r, ok := rmm["resource"].(map[string]any); ok {
			attrsOf(r["attributes"], res)
		}
		for _, sm := range asSlice(rmm["scopeMetrics"]) {
			for _, m := range asSlice(sm.(map[string]any)["metrics"]) {
				mm := m.(map[string]any)
				name, _ := mm["name"].(string)
				unit, _ := mm["unit"].(string)
				g, _ := mm["gauge"].(map[string]any)
				for _, dp := range asSlice(g["dataPoints"]) {
					dpm := dp.(map[string]any)
					attrs := map[string]string{}
					for k, v := range res {
						attrs[k] = v
					}
					attrsOf(dpm["attributes"], attrs)
					nanos, _ := strconv.ParseInt(dpm["timeUnixNano"].(string), 10, 64)
					at := time.Unix(0, nanos).UTC()
					rec := map[string]any{
						"id": PointID(tenant, monitor, name, attrs, at), "tenant": tenant, "monitor": monitor,
						"kind": KindMetric, "name": name, "time": at.Format(time.RFC3339Nano),
						"value": dpm["asDouble"], "attributes": attrs,
					}
					if unit != "" {
						rec["unit"] = unit
					}
					line, err := json.Marshal(rec)
					if err != nil {
						return nil, 0, err
					}
					out = append(append(out, line...), '\n')
					n++
				}
			}
		}
	}
	return out, n, nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// BenchmarkAppendJSON is the encoder alone, on a record with 8 attributes.
func BenchmarkAppendJSON(b *testing.B) {
	r := extraAttrs(goldenRecords()[0])
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkMarshalReference is encoding/json on the equivalent struct, for comparison.
func BenchmarkMarshalReference(b *testing.B) {
	r := extraAttrs(goldenRecords()[0])
	m := mirrorOf(&r)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

// extraAttrs returns r with 4 more attributes, 8 in all.
func extraAttrs(r Record) Record {
	attrs := r.AttrMap()
	for i := range 4 {
		attrs[fmt.Sprintf("extra%d", i)] = "value with \"quotes\" and <tags>"
	}
	r.Series = NewSeries(r.Tenant(), r.Monitor(), r.Kind(), r.Name(), r.Unit(), r.Count(), attrs)
	return r
}
