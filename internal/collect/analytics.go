package collect

import (
	"context"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// analytics is a monitor read from the Analytics API's data endpoint
// (POST /api/calm-analytics/v1/analytics/providers/data, time_series): one request per Fetch
// for the range, one query per measure. It is windowed like the metrics monitors: the runner
// hands it spans, delivers windows and moves checkpoints; a point's id is the PointID of its
// series (measure and attributes) at its bucket time, so a window read again delivers the same ids.
type analytics struct{ info Info }

func (m analytics) Info() Info { return m.info }

func (m analytics) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	aq := calm.AnalyticsQuery{Provider: m.info.DataProvider, Version: m.info.Version, Dimensions: m.info.Dimensions,
		Measures: m.info.Measures, Methods: m.info.Methods, From: q.From, To: q.To, Resolution: q.Resolution}
	for _, f := range m.info.Filters {
		aq.Filters = append(aq.Filters, calm.AnalyticsFilter{Key: f.Key, Values: f.Values})
	}
	points, err := c.AnalyticsData(ctx, aq)
	if err != nil {
		return err
	}
	for _, p := range points {
		s := record.NewSeries(q.Tenant, m.info.ID, record.KindMetric, p.Measure, "", m.info.IsCount(p.Measure), p.Attributes)
		emit(record.Record{Series: s, Point: record.Point{ID: s.PointID(p.Time), Time: p.Time, Value: p.Value, HasValue: true}})
	}
	return nil
}
