package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/alert"
	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/fleet/projection"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
)

// settings are the function's environment (docs/architecture.md, "Lambda environment"), checked at cold start.
type settings struct {
	collect   collect.Config
	secretID  string
	secretIDs map[string]string
	table     string
	sinks     []string
	secretTTL time.Duration
	endpoint  string
	// s3PathStyle: an S3-only endpoint is set (AWS_ENDPOINT_URL_S3), so S3 is addressed path-style.
	s3PathStyle bool
	alerts      alert.Config
	// prefix names the connector secrets found at run time (CALM_CONNECTOR_PREFIX).
	prefix string
	// queueURL takes one work message per tenant due (CALM_QUEUE_URL); period is the time
	// between two schedule ticks (CALM_SCHEDULE_PERIOD, 5m).
	queueURL string
	period   time.Duration
	// archiveTable is the Glue table over the S3 archive whose tenant projection the schedule
	// tick keeps in step with the connectors (CALM_ARCHIVE_TABLE, DATABASE.TABLE; "": none).
	archiveTable projection.ArchiveTable
	// deadLetter keeps what a sink refuses for good (CALM_DEAD_LETTER, s3://BUCKET/PREFIX; "":
	// none, and such a refusal holds its window).
	deadLetter string
}

// envFrom reads and checks the environment, naming every problem at once.
func envFrom(getenv func(string) string) (settings, error) {
	var s settings
	var errs []error
	c, err := collect.ConfigFromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	s.collect = c
	conns, err := secrets.ConnectorsFromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	s.secretID, s.secretIDs, s.prefix, s.secretTTL = conns.ID, conns.IDs, conns.Prefix, conns.TTL
	s.queueURL = strings.TrimSpace(getenv("CALM_QUEUE_URL"))
	s.period = cadence.SchedulePeriod
	if v := strings.TrimSpace(getenv("CALM_SCHEDULE_PERIOD")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			errs = append(errs, fmt.Errorf("CALM_SCHEDULE_PERIOD: %q is not a duration of a minute or more, like 5m", v))
		} else {
			s.period = d
		}
	}
	if v := strings.TrimSpace(getenv("CALM_ARCHIVE_TABLE")); v != "" {
		if s.archiveTable, err = projection.ParseArchiveTable(v); err != nil {
			errs = append(errs, fmt.Errorf("CALM_ARCHIVE_TABLE: %w", err))
		}
	}
	s.table = strings.TrimSpace(getenv("CALM_STATE_TABLE"))
	if s.table == "" {
		errs = append(errs, errors.New("CALM_STATE_TABLE: missing; set it to the DynamoDB state table's name"))
	}
	s.sinks = collect.SplitList(getenv("CALM_SINKS"))
	if len(s.sinks) == 0 {
		s.sinks = []string{"stdout"}
	}
	_, err = spec.ForLambda(s.sinks)
	for _, p := range spec.Problems(err) {
		errs = append(errs, fmt.Errorf("CALM_SINKS: %w", p))
	}
	s.deadLetter = strings.TrimSpace(getenv("CALM_DEAD_LETTER"))
	if sp, err := spec.Parse(s.deadLetter); s.deadLetter != "" && (err != nil || sp.Kind != spec.S3) {
		errs = append(errs, fmt.Errorf("CALM_DEAD_LETTER: %q is not s3://BUCKET/PREFIX (where refused records are kept)", s.deadLetter))
	}
	s.endpoint = strings.TrimSpace(getenv("CALM_ENDPOINT_URL"))
	s.s3PathStyle = strings.TrimSpace(getenv("AWS_ENDPOINT_URL_S3")) != ""
	if s.alerts, err = alert.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}
