package analytics

import (
	"strings"

	"github.com/calm-collector/calm-collector/internal/monitor"
)

// TableName is the Glue table over the archive; the named queries select from it.
const TableName = "records"

// Column is one column of the Athena table.
type Column struct {
	Name    string // the NDJSON record field it reads (see internal/record)
	Type    string // Glue/Hive type
	Comment string
}

// Columns are the table's data columns: every field of an archived record except tenant and
// monitor, which are the partition keys of the same name (their values equal the fields').
// "value" is absent for events and logs; a non-finite value is written as the string "NaN",
// "+Inf" or "-Inf", which the JSON SerDe reads as NULL in a double column.
var Columns = []Column{
	{"id", "string", "stable record id: the same data point always has the same id"},
	{"kind", "string", "metric, event, log or span"},
	{"name", "string", "metric name (e.g. criticalStatus), status_event, the log's name or the span's name"},
	{"time", "string", "RFC 3339 UTC time of the data point, event start or span start; use from_iso8601_timestamp(\"time\")"},
	{"value", "double", "the data point's value, or a span's duration in ms (NULL for events and logs)"},
	{"unit", "string", "unit as Cloud ALM sends it (%, ms, s, 1, ...)"},
	{"body", "string", "log line of a log record"},
	{"attributes", "map<string,string>", "resource and data-point attributes (serviceName, metricName, eventStatus, traceId, ...)"},
}

// PartitionKeys are the partition columns, in the order of the S3 key
// PREFIX/tenant=T/monitor=M/dt=YYYY-MM-DD/hour=HH/FROM-TO.ndjson.gz (internal/sink S3).
// dt and hour are of the window start in UTC.
var PartitionKeys = []Column{
	{"tenant", "string", "tenant (the connector's name)"},
	{"monitor", "string", "monitor id (hm, rum, jam, exm, ...)"},
	{"dt", "string", "UTC date of the window start, yyyy-MM-dd"},
	{"hour", "string", "UTC hour of the window start, 00-23"},
}

// Monitors are the monitor ids the projection enumerates: every built-in monitor of the table
// (internal/monitor), so every monitor the S3 sink writes is a partition Athena can find.
var Monitors = monitor.IDs()

// ProjectionStart is the first day the dt projection covers.
const ProjectionStart = "2024-01-01"

// LocationTemplate is the storage.location.template of the table for an archive at
// s3://bucket/prefix: one partition per tenant, monitor, day and hour.
func LocationTemplate(bucket, prefix string) string {
	return Location(bucket, prefix) + "tenant=${tenant}/monitor=${monitor}/dt=${dt}/hour=${hour}/"
}

// Location is the table's root: s3://bucket/prefix/.
func Location(bucket, prefix string) string {
	if p := strings.Trim(prefix, "/"); p != "" {
		return "s3://" + bucket + "/" + p + "/"
	}
	return "s3://" + bucket + "/"
}

// The table parameters of the tenant projection: an enum, whose values the collect function's
// schedule tick keeps in step with the connectors (internal/fleet/projection.Tenants).
const (
	ParamTenantType   = "projection.tenant.type"
	ParamTenantValues = "projection.tenant.values"
)

// ProjectionActions are the IAM actions the schedule tick needs to keep the tenant projection in
// step with the connectors, on the archive table only (internal/fleet/projection.Tenants calls exactly
// these; the stack grants exactly these).
var ProjectionActions = []string{"glue:GetTable", "glue:UpdateTable"}

// SplitValues splits an enum projection's comma-separated values, dropping empty ones.
func SplitValues(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// TableParameters are the Glue table parameters: partition projection on the key layout, so new
// partitions need no crawler and no MSCK REPAIR. tenants are the tenant names of the stack's
// connectors at deploy time; each tenant's records are visible only when it is listed, so the
// schedule tick adds the connectors added since (docs/analytics.md, "Tenants added at run time").
func TableParameters(bucket, prefix string, tenants []string) map[string]string {
	return map[string]string{
		"classification":              "json",
		"compressionType":             "gzip",
		"projection.enabled":          "true",
		ParamTenantType:               "enum",
		ParamTenantValues:             strings.Join(tenants, ","),
		"projection.monitor.type":     "enum",
		"projection.monitor.values":   strings.Join(Monitors, ","),
		"projection.dt.type":          "date",
		"projection.dt.format":        "yyyy-MM-dd",
		"projection.dt.range":         ProjectionStart + ",NOW",
		"projection.dt.interval":      "1",
		"projection.dt.interval.unit": "DAYS",
		"projection.hour.type":        "integer",
		"projection.hour.range":       "0,23",
		"projection.hour.digits":      "2",
		"storage.location.template":   LocationTemplate(bucket, prefix),
		"has_encrypted_data":          "false",
		"skip.header.line.count":      "0",
		"typeOfData":                  "file",
	}
}

// SerDe is the JSON SerDe the table reads the NDJSON with. case.insensitive is off so attribute
// keys keep their case (serviceName, not servicename); the record's own keys are lower case.
const SerDe = "org.openx.data.jsonserde.JsonSerDe"

// SerDeParameters are the SerDe's parameters.
var SerDeParameters = map[string]string{
	"case.insensitive":      "false",
	"ignore.malformed.json": "true",
	"dots.in.keys":          "false",
}

// Hive input and output formats of a text (NDJSON) table; gzip is read by the file extension.
const (
	InputFormat  = "org.apache.hadoop.mapred.TextInputFormat"
	OutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
)
