package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
)

// Batch is one window of one monitor: all records with From <= Time < To, delivered together,
// series by series.
type Batch struct {
	Tenant, Monitor string
	From, To        time.Time
	// Series are the window's series, each with its points, in the order they came; a series
	// whose points did not come one after the other appears once per run of them.
	Series []record.Run
	// Refuse keeps the items a sink refuses for good (Refused) in the run's dead-letter place,
	// so that the window moves on; the runner sets it. Nil: such a refusal fails the batch
	// (RefusedError). A sink calls it at most once per batch.
	Refuse RefuseFunc
	// Late marks a batch of late data: points that came after the window was delivered
	// (internal/collect settle.go), only the new ones. Before is how many points the window had
	// delivered before them: the S3 sink writes the batch as an object of its own beside the
	// window's, under a key as deterministic as the window's.
	Late   bool
	Before int
}

// Sink is one destination of records.
type Sink interface {
	// Name identifies the sink in logs and errors, e.g. "stdout", "file:/x/out.ndjson", "s3://b/p".
	Name() string
	// Write returns nil only when the batch is durably accepted.
	Write(ctx context.Context, b Batch) error
	Close(ctx context.Context) error
}

// Deps are what sinks may need from their caller.
type Deps struct {
	// AWS is the SDK configuration for S3 sinks (required by them only). When it has a
	// BaseEndpoint (moto, CALM_ENDPOINT_URL) S3 is addressed path-style.
	AWS *aws.Config
	// S3PathStyle addresses S3 path-style even without a BaseEndpoint: the mains set it when an
	// S3-only endpoint is configured (AWS_ENDPOINT_URL_S3); sinks never read the environment.
	S3PathStyle bool
	// Stdout is where "stdout" writes; os.Stdout when nil.
	Stdout io.Writer
	// StdoutMaxLine, when positive, is the longest record line "stdout" writes; a longer record
	// is refused (Batch.Refuse). The collect function sets CloudWatchLogsMaxLine: in Lambda each
	// stdout line is one CloudWatch Logs event.
	StdoutMaxLine int
	// Logger receives one debug line per delivered batch; slog.Default() when nil.
	Logger *slog.Logger
	// OTLP configures "otlp+" sinks (headers, partial success); mains build it with
	// OTLPOptionsFromEnv. Its Logger defaults to Logger.
	OTLP OTLPOptions
}

// Open opens the sink a spec names (the forms are those of spec.Parse):
//
//	"stdout" or "-"        NDJSON lines to Deps.Stdout
//	"file:PATH" or PATH    NDJSON appended to PATH (created 0644 with its directory), fsync per batch
//	"s3://BUCKET[/PREFIX]" one gzip NDJSON object per window (see S3)
//	"otlp+https://HOST[:PORT][/BASE]" OTLP/HTTP export (see otlp.go)
func Open(ctx context.Context, raw string, deps Deps) (Sink, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	sp, err := spec.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch sp.Kind {
	case spec.Stdout:
		w := deps.Stdout
		if w == nil {
			w = os.Stdout
		}
		out := NewWriter("stdout", w)
		out.MaxLine = deps.StdoutMaxLine
		return out, nil
	case spec.S3:
		if deps.AWS == nil {
			return nil, fmt.Errorf("sink %q: needs an AWS configuration, and the caller gave none", sp.Raw)
		}
		return NewS3(NewS3Client(*deps.AWS, deps.S3PathStyle), sp.Bucket, sp.Prefix, logger)
	case spec.OTLP:
		o := deps.OTLP
		if o.Logger == nil {
			o.Logger = logger
		}
		return newOTLP(sp.Base, o), nil
	default:
		return OpenFile(sp.Path)
	}
}

// OpenAll opens every spec (surrounding spaces trimmed). On an error it closes the sinks it
// already opened and names the spec that failed.
func OpenAll(ctx context.Context, specs []string, deps Deps) ([]Sink, error) {
	sinks := make([]Sink, 0, len(specs))
	seen := map[string]bool{}
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		var err error
		var s Sink
		if seen[spec] {
			err = fmt.Errorf("sink %q is listed twice: every record would be written twice", spec)
		} else {
			s, err = Open(ctx, spec, deps)
		}
		if err != nil {
			closeErrs := make([]error, 0, len(sinks))
			for _, s := range sinks {
				closeErrs = append(closeErrs, s.Close(ctx))
			}
			return nil, errors.Join(append([]error{fmt.Errorf("open sinks: %w", err)}, closeErrs...)...)
		}
		seen[spec] = true
		sinks = append(sinks, s)
	}
	return sinks, nil
}

// Len returns how many points (records) the batch has.
func (b Batch) Len() int {
	n := 0
	for _, s := range b.Series {
		n += len(s.Points)
	}
	return n
}

// Records yields the batch's records, series by series.
func (b Batch) Records() iter.Seq[record.Record] {
	return func(yield func(record.Record) bool) {
		for _, s := range b.Series {
			for i := range s.Points {
				if !yield(s.Record(i)) {
					return
				}
			}
		}
	}
}

// appendNDJSON appends every record of b as one line.
func appendNDJSON(dst []byte, b Batch) []byte {
	for _, s := range b.Series {
		for i := range s.Points {
			dst = s.AppendJSON(dst, &s.Points[i])
			dst = append(dst, '\n')
		}
	}
	return dst
}
