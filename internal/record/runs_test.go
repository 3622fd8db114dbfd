package record

import (
	"reflect"
	"testing"
	"time"
)

// Runs cuts records wherever the series changes, also back to a series seen before, keeps
// their order and gives each run the points of its records.
func TestRuns(t *testing.T) {
	a := NewSeries("t", "hm", KindMetric, "cpu", "%", false, map[string]string{"s": "a"})
	b := NewSeries("t", "hm", KindMetric, "cpu", "%", false, map[string]string{"s": "b"})
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := func(i int) Point {
		return Point{ID: string(rune('0' + i)), Time: at.Add(time.Duration(i) * time.Minute), Value: float64(i), HasValue: true}
	}
	recs := []Record{{a, p(0)}, {a, p(1)}, {b, p(2)}, {a, p(3)}}
	got := Runs(recs)
	want := []Run{{a, []Point{p(0), p(1)}}, {b, []Point{p(2)}}, {a, []Point{p(3)}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Runs = %+v, want %+v", got, want)
	}
	for i, r := range got {
		if r.Series != want[i].Series {
			t.Errorf("run %d has another *Series", i)
		}
	}
	if got[0].Record(1) != recs[1] {
		t.Errorf("Record(1) of the first run = %+v, want %+v", got[0].Record(1), recs[1])
	}
	if got := Runs(nil); got != nil {
		t.Errorf("Runs(nil) = %v, want nil", got)
	}
}
