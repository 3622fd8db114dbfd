package collect

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
)

// Every field of a record comes back from spanRecords as it went in: a field added to
// record.Record that spanRecords does not carry makes this test fail.
func TestSpanRecordsKeepEveryField(t *testing.T) {
	span := Range{From: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)}
	full := record.Record{}
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Float64:
			f.SetFloat(42.5)
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{"k": "v"}))
		case reflect.Struct:
			if f.Type() != reflect.TypeOf(time.Time{}) {
				t.Fatalf("record field %s of type %s: teach this test (and spanRecords) about it", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(span.From.Add(7 * time.Minute)))
		default:
			t.Fatalf("record field %s of kind %s: teach this test (and spanRecords) about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	bare := record.Record{ID: "bare", Time: span.From.Add(8 * time.Minute)} // zero values and a nil map
	empty := record.Record{ID: "empty", Time: span.From.Add(9 * time.Minute), Attributes: map[string]string{}}
	s := newSpanRecords(span, 5*time.Minute)
	for _, r := range []record.Record{full, bare, empty} {
		s.add(int(r.Time.Sub(span.From)/(5*time.Minute)), r)
	}
	got := s.batch(1)
	if want := []record.Record{full, bare, empty}; !reflect.DeepEqual(got, want) {
		t.Errorf("window 1 =\n%#v\nwant\n%#v", got, want)
	}
	if got[1].Attributes != nil || got[2].Attributes == nil {
		t.Errorf("nil and empty attribute maps are not kept apart: %#v, %#v", got[1].Attributes, got[2].Attributes)
	}
	if got := s.batch(1); got != nil {
		t.Errorf("window 1 again = %v, want nil (let go of once delivered)", got)
	}
}

// Records of one series share one attribute map across the windows of a span, also when two
// series alternate (a histogram's .count and .sum); records of different series do not.
func TestSpanRecordsShareAttributesPerSeries(t *testing.T) {
	span := Range{From: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)}
	res := 5 * time.Minute
	s := newSpanRecords(span, res)
	var in []record.Record
	for svc := range 3 {
		for w := range 12 {
			for _, name := range []string{"d.count", "d.sum"} {
				r := record.Record{ID: fmt.Sprint(svc, w, name), Tenant: "t", Monitor: "hm", Kind: record.KindMetric, Name: name,
					Time: span.From.Add(time.Duration(w) * res), Value: float64(w), HasValue: true,
					Attributes: map[string]string{"serviceId": fmt.Sprint("s", svc), "region": "eu10"}}
				in = append(in, r)
				s.add(w, r)
			}
		}
	}
	if len(s.series) != 6 {
		t.Errorf("%d series held, want 6 (3 services × count and sum)", len(s.series))
	}
	var out []record.Record
	maps := map[string]map[string]string{}
	for w := range 12 {
		for _, r := range s.batch(w) {
			out = append(out, r)
			key := r.Name + "/" + r.Attributes["serviceId"]
			if m, ok := maps[key]; ok && reflect.ValueOf(m).UnsafePointer() != reflect.ValueOf(r.Attributes).UnsafePointer() {
				t.Errorf("series %s: window %d has its own attribute map", key, w)
			}
			maps[key] = r.Attributes
		}
	}
	if len(out) != len(in) {
		t.Fatalf("%d records out, %d in", len(out), len(in))
	}
	byID := map[string]record.Record{}
	for _, r := range in {
		byID[r.ID] = r
	}
	for _, r := range out {
		if !reflect.DeepEqual(r, byID[r.ID]) {
			t.Errorf("record %s =\n%#v\nwant\n%#v", r.ID, r, byID[r.ID])
		}
	}
}
