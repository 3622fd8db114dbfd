package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/calm-collector/calm-collector/internal/record"
)

// Batch is one window of one monitor: all records with From <= Time < To, delivered together.
type Batch struct {
	Tenant, Monitor string
	From, To        time.Time
	Records         []record.Record
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
	// Stdout is where "stdout" writes; os.Stdout when nil.
	Stdout io.Writer
	// Logger receives one debug line per delivered batch; slog.Default() when nil.
	Logger *slog.Logger
}

// acceptedForms is the tail of every bad-spec error.
const acceptedForms = `accepted forms: "stdout", "-", "file:PATH", a plain file path, "s3://BUCKET[/PREFIX]", "otlp+https://HOST[:PORT][/BASE]"`

// Open opens the sink a spec names:
//
//	"stdout" or "-"        NDJSON lines to Deps.Stdout
//	"file:PATH" or PATH    NDJSON appended to PATH (created 0644 with its directory), fsync per batch
//	"s3://BUCKET[/PREFIX]" one gzip NDJSON object per window (see S3)
//	"otlp+https://HOST[:PORT][/BASE]" OTLP/HTTP export (see otlp.go)
func Open(ctx context.Context, spec string, deps Deps) (Sink, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	switch {
	case spec == "":
		return nil, fmt.Errorf("empty sink spec; %s", acceptedForms)
	case spec == "stdout" || spec == "-":
		w := deps.Stdout
		if w == nil {
			w = os.Stdout
		}
		return NewWriter("stdout", w), nil
	case strings.HasPrefix(spec, "file:"):
		path := strings.TrimPrefix(spec, "file:")
		if path == "" {
			return nil, fmt.Errorf("sink %q: no path after \"file:\"; %s", spec, acceptedForms)
		}
		return OpenFile(path)
	case strings.HasPrefix(spec, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(spec, "s3://"), "/")
		if bucket == "" {
			return nil, fmt.Errorf("sink %q: no bucket name after \"s3://\"; %s", spec, acceptedForms)
		}
		if deps.AWS == nil {
			return nil, fmt.Errorf("sink %q: needs an AWS configuration, and the caller gave none", spec)
		}
		return NewS3(NewS3Client(*deps.AWS), bucket, prefix, logger)
	case strings.HasPrefix(spec, "otlp+"):
		return openOTLP(ctx, spec, deps)
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("sink %q: unknown scheme; %s", spec, acceptedForms)
	default:
		return OpenFile(spec)
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

// appendNDJSON appends every record of b as one line.
func appendNDJSON(dst []byte, b Batch) []byte {
	for i := range b.Records {
		dst = record.AppendJSON(dst, &b.Records[i])
		dst = append(dst, '\n')
	}
	return dst
}
