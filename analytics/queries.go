package analytics

// Question is one of the questions operators ask first, answered twice: in Athena over the S3
// archive (all history, the partitions bound the scan) and in CloudWatch Logs Insights over the
// collect function's log group (the records it writes to stdout, for as long as the logs are kept).
type Question struct {
	ID          string // short id: names the Athena named query and the Logs Insights query definition
	Title       string
	Description string
	// Athena is the SQL of the named query, run in the stack's database against TableName.
	Athena string
	// Insights is the Logs Insights query over the collect function's log group. @timestamp there
	// is when the record was logged (2 to 7 minutes after the window), not the record's "time".
	Insights string
	// Columns are the result columns of Athena, in order (docs/analytics.md shows them).
	Columns []string
}

// Questions are the operators' first questions, in the order the docs show them.
var Questions = []Question{
	{
		ID:          "critical-health",
		Title:       "Services with critical health ratings (last 24 h)",
		Description: "Health Monitoring (hm) metrics rated critical in the last 24 hours, per tenant, service and metric.",
		Athena: `SELECT tenant, attributes['serviceName'] AS service, attributes['metricName'] AS metric,
       count(*) AS critical_points,
       min(from_iso8601_timestamp("time")) AS first_seen, max(from_iso8601_timestamp("time")) AS last_seen
FROM records
WHERE monitor = 'hm' AND name = 'criticalStatus' AND value > 0
  AND dt >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
  AND from_iso8601_timestamp("time") >= current_timestamp - INTERVAL '24' HOUR
GROUP BY 1, 2, 3
ORDER BY critical_points DESC, service, metric`,
		Insights: `filter monitor = "hm" and name = "criticalStatus" and value > 0
| stats count(*) as critical_points, latest(time) as last_seen by tenant, attributes.serviceName as service, attributes.metricName as metric
| sort critical_points desc`,
		Columns: []string{"tenant", "service", "metric", "critical_points", "first_seen", "last_seen"},
	},
	{
		ID:          "exceptions-per-hour",
		Title:       "Exceptions per service per hour (last 7 days)",
		Description: "Exception Monitoring (exm) counts summed per tenant, service, category and hour.",
		Athena: `SELECT tenant, attributes['serviceName'] AS service, attributes['categoryName'] AS category,
       date_trunc('hour', from_iso8601_timestamp("time")) AS hour_utc, sum(value) AS exceptions
FROM records
WHERE monitor = 'exm' AND name = 'counter'
  AND dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY 1, 2, 3, 4
ORDER BY hour_utc DESC, exceptions DESC`,
		Insights: `filter monitor = "exm" and name = "counter"
| stats sum(value) as exceptions by bin(1h) as hour, attributes.serviceName as service
| sort hour desc, exceptions desc`,
		Columns: []string{"tenant", "service", "category", "hour_utc", "exceptions"},
	},
	{
		ID:          "failed-or-slow-jobs",
		Title:       "Failed or slow jobs (last 7 days)",
		Description: "Job & Automation Monitoring (jam) runs that took more than twice the job's 7-day average, or carry a failed status attribute.",
		Athena: `WITH runs AS (
  SELECT tenant, attributes['serviceName'] AS service, attributes['jobName'] AS job,
         from_iso8601_timestamp("time") AS at, value AS runtime_s,
         upper(coalesce(attributes['status'], attributes['jobStatus'], attributes['StatusGroup'], '')) AS status
  FROM records
  WHERE monitor = 'jam' AND name = 'runTime'
    AND dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
), rated AS (
  SELECT *, avg(runtime_s) OVER (PARTITION BY tenant, service, job) AS avg_runtime_s FROM runs
)
SELECT tenant, service, job, at, runtime_s, round(avg_runtime_s, 1) AS avg_runtime_s, status
FROM rated
WHERE runtime_s > 2 * avg_runtime_s OR status IN ('FAILED', 'ERROR', 'ABORTED', 'CANCELED', 'CANCELLED')
ORDER BY at DESC`,
		Insights: `filter monitor = "jam" and name = "runTime"
| stats count(*) as runs, avg(value) as avg_runtime_s, max(value) as max_runtime_s by tenant, attributes.serviceName as service, attributes.jobName as job
| sort max_runtime_s desc`,
		Columns: []string{"tenant", "service", "job", "at", "runtime_s", "avg_runtime_s", "status"},
	},
	{
		ID:          "status-events",
		Title:       "Business-service status events and their durations (last 30 days)",
		Description: "Every status event with its latest status and its duration (to now while it is open).",
		Athena: `SELECT tenant, attributes['eventId'] AS event_id,
       max_by(attributes['serviceName'], "$path") AS service, max_by(attributes['eventType'], "$path") AS event_type,
       max_by(attributes['eventStatus'], "$path") AS status,
       min(from_iso8601_timestamp("time")) AS started,
       max_by(try(from_iso8601_timestamp(nullif(attributes['eventEndTime'], ''))), "$path") AS ended,
       date_diff('minute', min(from_iso8601_timestamp("time")),
                 coalesce(max_by(try(from_iso8601_timestamp(nullif(attributes['eventEndTime'], ''))), "$path"), current_timestamp)) AS duration_min
FROM records
WHERE monitor = 'status' AND kind = 'event'
  AND dt >= date_format(current_timestamp - INTERVAL '30' DAY, '%Y-%m-%d')
GROUP BY 1, 2
ORDER BY started DESC`,
		Insights: `filter monitor = "status" and kind = "event"
| stats latest(attributes.eventStatus) as status, latest(attributes.eventEndTime) as ended, earliest(time) as started
  by tenant, attributes.eventId as event_id, attributes.serviceName as service, attributes.eventType as event_type
| sort started desc`,
		Columns: []string{"tenant", "event_id", "service", "event_type", "status", "started", "ended", "duration_min"},
	},
	{
		ID:          "slow-or-failed-requests",
		Title:       "Slowest and failed user requests (last 24 h)",
		Description: "Real User Monitoring traces (monitor traces): root spans per tenant, service and request, with how many failed and their 95th percentile and longest duration.",
		Athena: `SELECT tenant, element_at(attributes, 'serviceName') AS service, name AS request,
       count(*) AS requests, count_if(element_at(attributes, 'statusCode') = 'Error') AS failed,
       round(approx_percentile(value, 0.95), 1) AS p95_ms, round(max(value), 1) AS max_ms
FROM records
WHERE monitor = 'traces' AND kind = 'span' AND element_at(attributes, 'parentSpanId') IS NULL
  AND dt >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
  AND from_iso8601_timestamp("time") >= current_timestamp - INTERVAL '24' HOUR
GROUP BY 1, 2, 3
ORDER BY failed DESC, p95_ms DESC`,
		Insights: `filter monitor = "traces" and kind = "span" and not ispresent(attributes.parentSpanId)
| stats count(*) as requests, pct(value, 95) as p95_ms, max(value) as max_ms by tenant, attributes.serviceName as service, name as request
| sort p95_ms desc`,
		Columns: []string{"tenant", "service", "request", "requests", "failed", "p95_ms", "max_ms"},
	},
	{
		ID:          "bpm-kpis",
		Title:       "Business process KPIs, latest value (last 7 days)",
		Description: "Business Process Monitoring KPI values (analytics monitor bpm): the latest value of each KPI per tenant and service, with its range over the week.",
		Athena: `SELECT tenant, element_at(attributes, 'serviceName') AS service, element_at(attributes, 'kpiName') AS kpi,
       max_by(value, from_iso8601_timestamp("time")) AS latest_value, min(value) AS min_value, max(value) AS max_value,
       max(from_iso8601_timestamp("time")) AS latest_at
FROM records
WHERE monitor = 'bpm' AND name = 'kpiValue'
  AND dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY 1, 2, 3
ORDER BY service, kpi`,
		Insights: `filter monitor = "bpm" and name = "kpiValue"
| stats latest(value) as latest_value, min(value) as min_value, max(value) as max_value by tenant, attributes.serviceName as service, attributes.kpiName as kpi
| sort service asc, kpi asc`,
		Columns: []string{"tenant", "service", "kpi", "latest_value", "min_value", "max_value", "latest_at"},
	},
	{
		ID:          "job-outcomes",
		Title:       "Job outcomes per job (last 7 days)",
		Description: "Job runs by outcome (analytics monitor jobs): successful, with warnings, aborted and with application errors, per tenant, service and job.",
		Athena: `SELECT tenant, element_at(attributes, 'serviceName') AS service, element_at(attributes, 'jobName') AS job,
       sum(if(name = 'success', value, 0)) AS success, sum(if(name = 'warning', value, 0)) AS warning,
       sum(if(name = 'aborted', value, 0)) AS aborted, sum(if(name = 'applicationError', value, 0)) AS application_error
FROM records
WHERE monitor = 'jobs' AND name IN ('success', 'warning', 'aborted', 'applicationError')
  AND dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY 1, 2, 3
ORDER BY aborted DESC, application_error DESC, warning DESC`,
		Insights: `filter monitor = "jobs" and name in ["success", "warning", "aborted", "applicationError"]
| stats sum(value) as runs by tenant, attributes.serviceName as service, attributes.jobName as job, name as outcome
| sort runs desc`,
		Columns: []string{"tenant", "service", "job", "success", "warning", "aborted", "application_error"},
	},
	{
		ID:          "collection-gaps",
		Title:       "Collection gaps (last 24 h)",
		Description: "Hours of the last day without any archived record, per tenant and monitor that has data in the last two days. A monitor with nothing to report in an hour (no job ran) shows there too; the collector's checkpoints and its Errors/Lag alarms are the authority.",
		Athena: `WITH seen AS (
  SELECT DISTINCT tenant, monitor, dt, hour FROM records
  WHERE dt >= date_format(current_timestamp - INTERVAL '2' DAY, '%Y-%m-%d')
), pairs AS (SELECT DISTINCT tenant, monitor FROM seen),
hours AS (
  SELECT h FROM UNNEST(sequence(date_trunc('hour', current_timestamp - INTERVAL '24' HOUR),
                                date_trunc('hour', current_timestamp - INTERVAL '1' HOUR), INTERVAL '1' HOUR)) AS t(h)
)
SELECT p.tenant, p.monitor, h.h AS missing_hour_utc
FROM pairs p CROSS JOIN hours h
LEFT JOIN seen s ON s.tenant = p.tenant AND s.monitor = p.monitor
  AND s.dt = date_format(h.h, '%Y-%m-%d') AND s.hour = date_format(h.h, '%H')
WHERE s.tenant IS NULL
ORDER BY 1, 2, 3`,
		Insights: `filter ispresent(LagSeconds) and ispresent(monitor)
| stats max(LagSeconds) as max_lag_s, sum(Errors) as errors, sum(Windows) as windows by tenant, monitor
| sort max_lag_s desc`,
		Columns: []string{"tenant", "monitor", "missing_hour_utc"},
	},
}
