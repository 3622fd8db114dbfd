package record

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// mirror is the struct whose json.Marshal output AppendJSON must equal byte for byte.
type mirror struct {
	ID         string            `json:"id"`
	Tenant     string            `json:"tenant"`
	Monitor    string            `json:"monitor"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Time       string            `json:"time"`
	Value      *float64          `json:"value,omitempty"`
	Unit       string            `json:"unit,omitempty"`
	Body       string            `json:"body,omitempty"`
	Attributes map[string]string `json:"attributes"`
}

func mirrorOf(r *Record) mirror {
	m := mirror{
		ID: r.ID, Tenant: r.Tenant(), Monitor: r.Monitor(), Kind: r.Kind(), Name: r.Name(),
		Time: r.Time.UTC().Format(time.RFC3339Nano), Unit: r.Unit(), Body: r.Body,
		Attributes: r.AttrMap(),
	}
	if r.HasValue {
		v := r.Value
		m.Value = &v
	}
	return m
}

func assertSameAsEncodingJSON(t *testing.T, r *Record) {
	t.Helper()
	want, err := json.Marshal(mirrorOf(r))
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	got := AppendJSON(nil, r)
	if !bytes.Equal(got, want) {
		t.Errorf("AppendJSON differs from encoding/json\n got: %s\nwant: %s", got, want)
	}
	if !json.Valid(got) {
		t.Errorf("AppendJSON wrote invalid JSON: %s", got)
	}
}

// edgeStrings are the strings most likely to be escaped wrongly.
var edgeStrings = []string{
	"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "\x00\x01\x1f\x7f",
	"\b\f\n\r\t", "line\u2028sep\u2029para", "é ü 漢字 🙂", "bad \xff byte", "\xed\xa0\x80 surrogate",
	"truncated \xe2\x82", "\xc0\xaf overlong", "tail\xe2", "/slash/", "\u00a0nbsp", "\ufffd itself",
	strings.Repeat("a", 300) + "\n",
}

func TestAppendJSONStringsMatchEncodingJSON(t *testing.T) {
	for _, s := range edgeStrings {
		r := Record{Series: NewSeries(s, s, s, s, s, false, map[string]string{s: s, "k": s}), Point: Point{ID: s, Body: s,
			Time: time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)}}
		assertSameAsEncodingJSON(t, &r)
	}
}

func TestAppendJSONRandomStringsMatchEncodingJSON(t *testing.T) {
	// bytes and runes chosen to hit every branch of the escaper, in random combinations
	pieces := []string{"a", "Z", " ", "\"", "\\", "<", ">", "&", "\x00", "\x1f", "\x7f", "\n", "\t",
		"\b", "\f", "\r", "é", "漢", "🙂", "\u2028", "\u2029", "\xff", "\xe2\x82", "\xc3", "\xed\xa0\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		got := appendString(nil, s)
		want, _ := json.Marshal(s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range edgeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		want, _ := json.Marshal(s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

func TestAppendJSONNumbersMatchEncodingJSON(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 12.5, 0.1, 1e6, 123456789, 1e20, 1e21, 1.5e21,
		1e-6, 9.99e-7, 1e-7, 5e-324, math.MaxFloat64, -math.MaxFloat64, 1 << 53, 3.141592653589793} {
		r := Record{Series: NewSeries("", "", KindMetric, "", "", false, nil), Point: Point{ID: "x", Value: v, HasValue: true, Time: time.Unix(0, 0)}}
		assertSameAsEncodingJSON(t, &r)
	}
}

func TestAppendJSONNonFiniteValuesAreStrings(t *testing.T) {
	for v, want := range map[float64]string{math.Inf(1): `"+Inf"`, math.Inf(-1): `"-Inf"`} {
		got := AppendJSON(nil, &Record{Series: NewSeries("", "", "", "", "", false, nil), Point: Point{Value: v, HasValue: true}})
		if !bytes.Contains(got, []byte(`"value":`+want)) {
			t.Errorf("AppendJSON(%v) = %s, want value %s", v, got, want)
		}
	}
	got := AppendJSON(nil, &Record{Series: NewSeries("", "", "", "", "", false, nil), Point: Point{Value: math.NaN(), HasValue: true}})
	if !bytes.Contains(got, []byte(`"value":"NaN"`)) || !json.Valid(got) {
		t.Errorf("AppendJSON(NaN) = %s, want valid JSON with value \"NaN\"", got)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r, err := Decode(AppendJSON(nil, &Record{Series: NewSeries("", "", "", "", "", false, nil), Point: Point{Value: v, HasValue: true}}))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !r.HasValue || !(math.IsNaN(v) && math.IsNaN(r.Value) || r.Value == v) {
			t.Errorf("round trip of %v gave %v (HasValue %v)", v, r.Value, r.HasValue)
		}
	}
}

func TestAppendJSONTime(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC), `"time":"2026-11-25T10:05:00Z"`},
		{time.Date(2026, 11, 25, 11, 5, 0, 0, berlin), `"time":"2026-11-25T10:05:00Z"`},
		{time.Date(2026, 11, 25, 10, 5, 0, 500_000_000, time.UTC), `"time":"2026-11-25T10:05:00.5Z"`},
		{time.Date(2026, 11, 25, 10, 5, 0, 1, time.UTC), `"time":"2026-11-25T10:05:00.000000001Z"`},
	} {
		got := AppendJSON(nil, &Record{Series: NewSeries("", "", "", "", "", false, nil), Point: Point{Time: tc.in}})
		if !bytes.Contains(got, []byte(tc.want)) {
			t.Errorf("AppendJSON(time %v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// goldenRecords cover a metric, an event, a log line and a record without attributes.
func goldenRecords() []Record {
	at := time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)
	attrs := map[string]string{"serviceName": "S4H.100", "serviceId": "c0ffee", "metricName": "cpu", "note": "a<b & \"c\""}
	return []Record{
		{Series: NewSeries("prod-eu10", "hm", KindMetric, "calm.cpu", "%", false, attrs), Point: Point{ID: PointID("prod-eu10", "hm", "calm.cpu", attrs, at), Time: at, Value: 12.5, HasValue: true}},
		{Series: NewSeries("prod-eu10", "hm", KindMetric, "calm.requests", "", false, nil), Point: Point{ID: PointID("prod-eu10", "hm", "calm.requests", nil, at), Time: at.Add(1500 * time.Millisecond), Value: 1e6, HasValue: true}},
		{Series: NewSeries("prod-eu10", "bsm", KindEvent, "event", "", false, map[string]string{"status": "DOWN"}), Point: Point{ID: NewSeries("prod-eu10", "bsm", KindEvent, "event", "", false, map[string]string{"status": "DOWN"}).ContentID(at, ""), Time: at}},
		{Series: NewSeries("prod-eu10", "logs", KindLog, "log", "", false, map[string]string{"severity": "ERROR"}), Point: Point{ID: "log-1", Time: at, Body: "line one\nline two\t\u2028 \xff"}},
	}
}

func TestAppendJSONGolden(t *testing.T) {
	var buf []byte
	for _, r := range goldenRecords() {
		assertSameAsEncodingJSON(t, &r)
		buf = AppendJSON(buf, &r)
		buf = append(buf, '\n')
	}
	path := filepath.Join("testdata", "records.ndjson.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(buf, want) {
		t.Errorf("encoding changed (run go test -update if intended)\n got:\n%s\nwant:\n%s", buf, want)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, r := range goldenRecords() {
		line := append(AppendJSON(nil, &r), '\n')
		got, err := Decode(line)
		if err != nil {
			t.Fatalf("Decode(%s): %v", line, err)
		}
		want := r
		// invalid UTF-8 comes back as U+FFFD
		want.Body = strings.ToValidUTF8(want.Body, "\uFFFD")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip\n got: %#v\nwant: %#v", got, want)
		}
	}
}

func TestMarshalUnmarshalJSON(t *testing.T) {
	recs := goldenRecords()
	b, err := json.Marshal(recs[:2])
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var back []Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if len(back) != 2 || back[0].ID != recs[0].ID || back[1].Value != 1e6 || !back[1].Time.Equal(recs[1].Time) {
		t.Errorf("json round trip of []Record gave %#v", back)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`not json`, "decode record: invalid character"},
		{`{"id":"a","time":"yesterday"}`, `decode record "a": field "time" must be RFC 3339`},
		{`{"id":"a","time":"2026-11-25T10:05:00Z","value":"many"}`, `decode record "a": field "value": want a number, "NaN", "+Inf" or "-Inf", got "many"`},
		{`{"id":"a","value":true}`, `decode record "a": field "value": want a number`},
		{`{"id":"a","attributes":{"k":1}}`, "decode record: json: cannot unmarshal number"},
	} {
		_, err := Decode([]byte(tc.line))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s) error = %v, want it to contain %q", tc.line, err, tc.want)
		}
	}
}

func TestDecodeNullValueHasNoValue(t *testing.T) {
	r, err := Decode([]byte(`{"id":"a","kind":"event","value":null}`))
	if err != nil || r.HasValue {
		t.Errorf("Decode(value null) = %#v, %v; want HasValue false", r, err)
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	r := goldenRecords()[0]
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], &r) })
	if allocs != 0 {
		t.Errorf("AppendJSON allocates %v times per record, want 0", allocs)
	}
}
