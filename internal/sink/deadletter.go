package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
)

// Refused is one item a destination refuses for good (docs/design.md, "Destination limits"): too
// large after the sink's documented shortening, or refused as invalid. Sending it again would be
// refused again, so it goes to the dead-letter place and the window moves on.
type Refused struct {
	// Reason says which limit or refusal, with the numbers.
	Reason string
	// Record is the refused record, when the item is one.
	Record *record.Record
	// Entry is the item as the sink would have sent it, when it is not a record (an EventBridge
	// entry built from the window's records).
	Entry json.RawMessage
}

// RefuseFunc keeps the items a sink refused for good. It returns nil once they are kept; an
// error (the dead-letter place failed) fails the batch, which is then retried whole.
type RefuseFunc func(ctx context.Context, sink string, items []Refused) error

// RefusedError fails a batch whose refused items have nowhere to be kept (Batch.Refuse is nil):
// a record is never dropped silently, so the window holds until a dead-letter place is set.
type RefusedError struct {
	Sink  string
	Items []Refused
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s refused %d items for good (first: %s) and no dead-letter place is set to keep them: set one (CALM_DEAD_LETTER, calmctl --dead-letter)",
		e.Sink, len(e.Items), e.Items[0].Reason)
}

// KeepRefused hands a sink's refused items to the batch's dead-letter place (Refuse); without
// one it fails the batch with a *RefusedError. Nothing refused: nil.
func (b Batch) KeepRefused(ctx context.Context, sink string, items []Refused) error {
	if len(items) == 0 {
		return nil
	}
	if b.Refuse == nil {
		return &RefusedError{Sink: sink, Items: items}
	}
	if err := b.Refuse(ctx, sink, items); err != nil {
		return fmt.Errorf("%s: keep %d refused items in the dead-letter place: %w", sink, len(items), err)
	}
	return nil
}

// DeadLetter is where refused items are kept: an S3 prefix beside the archive (the Lambda), or a
// local NDJSON file (calmctl). One line per item: tenant, monitor, window, sink, reason, and the
// record or entry.
type DeadLetter interface {
	Name() string
	Keep(ctx context.Context, b Batch, sink string, items []Refused) error
	Close(ctx context.Context) error
}

// OpenDeadLetter opens the dead-letter place a spec names: "s3://BUCKET/PREFIX" (one object per
// window and sink) or "file:PATH" / PATH (appended, fsynced).
func OpenDeadLetter(raw string, deps Deps) (DeadLetter, error) {
	sp, err := spec.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("dead-letter place: %w", err)
	}
	switch sp.Kind {
	case spec.S3:
		if deps.AWS == nil {
			return nil, fmt.Errorf("dead-letter place %q: needs an AWS configuration, and the caller gave none", sp.Raw)
		}
		return &S3DeadLetter{Client: NewS3Client(*deps.AWS, deps.S3PathStyle), Bucket: sp.Bucket, Prefix: strings.Trim(sp.Prefix, "/")}, nil
	case spec.File:
		return &FileDeadLetter{path: sp.Path}, nil
	}
	return nil, fmt.Errorf("dead-letter place %q: must be kept: write s3://BUCKET/PREFIX or a file path", sp.Raw)
}

// S3DeadLetter keeps each window's refused items of one sink as one NDJSON object:
//
//	PREFIX/tenant=T/monitor=M/dt=YYYY-MM-DD/<from>-<to>.<sink kind>-<sink hash>.ndjson
//
// so a window kept again (its delivery retried) overwrites its own object. Late data of a
// window (Batch.Late, after Before points) is kept beside it as <from>-<to>-late<Before>.…, as
// the S3 sink names its objects: never over the window's refused items.
type S3DeadLetter struct {
	Client         S3API
	Bucket, Prefix string
}

// Name returns "s3://BUCKET/PREFIX".
func (d *S3DeadLetter) Name() string { return "s3://" + d.Bucket + "/" + d.Prefix }

// Key is the object key of a window's refused items of one sink.
func (d *S3DeadLetter) Key(b Batch, sink string) string {
	var k []byte
	if d.Prefix != "" {
		k = append(append(k, d.Prefix...), '/')
	}
	k = appendKeySegment(append(k, "tenant="...), b.Tenant)
	k = appendKeySegment(append(k, "/monitor="...), b.Monitor)
	from, to := b.From.UTC(), b.To.UTC()
	k = from.AppendFormat(append(k, "/dt="...), "2006-01-02")
	k = from.AppendFormat(append(k, '/'), "20060102T150405Z")
	k = to.AppendFormat(append(k, '-'), "20060102T150405Z")
	if b.Late {
		k = strconv.AppendInt(append(k, "-late"...), int64(b.Before), 10)
	}
	kind, _, _ := strings.Cut(sink, ":")
	sum := sha256.Sum256([]byte(sink))
	k = appendKeySegment(append(k, '.'), kind)
	return string(append(append(k, '-'), hex.EncodeToString(sum[:4])+".ndjson"...))
}

// Keep puts the object and returns once S3 accepted it.
func (d *S3DeadLetter) Keep(ctx context.Context, b Batch, sink string, items []Refused) error {
	body := appendDeadLines(nil, b, sink, items)
	key := d.Key(b, sink)
	_, err := d.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(d.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/x-ndjson"),
		Metadata: map[string]string{"items": strconv.Itoa(len(items))},
	})
	if err != nil {
		return fmt.Errorf("%s: put %s: %w", d.Name(), key, err)
	}
	return nil
}

// Close does nothing.
func (d *S3DeadLetter) Close(context.Context) error { return nil }

// FileDeadLetter appends refused items to a local NDJSON file, created at the first refusal.
type FileDeadLetter struct {
	path string
	mu   sync.Mutex
	f    *File
}

// Name returns "file:" and the path.
func (d *FileDeadLetter) Name() string { return "file:" + d.path }

// Keep appends one line per item and returns after fsync.
func (d *FileDeadLetter) Keep(ctx context.Context, b Batch, sink string, items []Refused) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		f, err := OpenFile(d.path)
		if err != nil {
			return fmt.Errorf("dead-letter place: %w", err)
		}
		d.f = f
	}
	return d.f.appendLines(ctx, func(buf []byte) []byte { return appendDeadLines(buf, b, sink, items) },
		fmt.Sprintf("%d refused items of %s/%s window %s", len(items), b.Tenant, b.Monitor, windowText(b)))
}

// Close closes the file, if a refusal opened it.
func (d *FileDeadLetter) Close(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	return d.f.Close(ctx)
}

// deadLine is one kept item.
type deadLine struct {
	Tenant  string          `json:"tenant"`
	Monitor string          `json:"monitor"`
	From    string          `json:"from"`
	To      string          `json:"to"`
	Sink    string          `json:"sink"`
	Reason  string          `json:"reason"`
	Record  json.RawMessage `json:"record,omitempty"`
	Entry   json.RawMessage `json:"entry,omitempty"`
}

func appendDeadLines(dst []byte, b Batch, sink string, items []Refused) []byte {
	for _, it := range items {
		l := deadLine{Tenant: b.Tenant, Monitor: b.Monitor, From: b.From.UTC().Format(time.RFC3339), To: b.To.UTC().Format(time.RFC3339),
			Sink: sink, Reason: it.Reason, Entry: it.Entry}
		if it.Record != nil {
			l.Record = record.AppendJSON(nil, it.Record)
		}
		line, err := json.Marshal(l)
		if err != nil {
			// Entry is JSON the sink built; should it not be, keep it as a string rather than lose it.
			l.Entry, _ = json.Marshal(string(it.Entry))
			line, _ = json.Marshal(l)
		}
		dst = append(append(dst, line...), '\n')
	}
	return dst
}
