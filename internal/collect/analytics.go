package collect

import (
	"context"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// analytics is a monitor read from the Analytics API's data endpoint
// (POST /api/calm-analytics/v1/analytics/providers/data, time_series): one request per Fetch
// for the range, one query per measure. It is windowed like the metrics monitors: the runner
// hands it spans, delivers windows and moves checkpoints; a point's id is record.PointID of its
// measure, series attributes and bucket time, so a window read again delivers the same ids.
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
		emit(record.Record{
			ID:     record.PointID(q.Tenant, m.info.ID, p.Measure, p.Attributes, p.Time),
			Tenant: q.Tenant, Monitor: m.info.ID, Kind: record.KindMetric, Name: p.Measure, Time: p.Time,
			Value: p.Value, HasValue: true, Count: m.info.IsCount(p.Measure), Attributes: p.Attributes,
		})
	}
	return nil
}
