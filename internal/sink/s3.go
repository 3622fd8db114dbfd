package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client the sink uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// NewS3Client returns an S3 client for cfg, path-style addressed when pathStyle is set or cfg
// has an endpoint override (cfg.BaseEndpoint), as moto and most S3 look-alikes need.
func NewS3Client(cfg aws.Config, pathStyle bool) *s3.Client {
	pathStyle = pathStyle || cfg.BaseEndpoint != nil
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}

// S3 writes each window as one gzip NDJSON object with a key made only of the batch's tenant,
// monitor and window:
//
//	PREFIX/tenant=T/monitor=M/dt=YYYY-MM-DD/hour=HH/<from yyyyMMddTHHmmssZ>-<to yyyyMMddTHHmmssZ>.ndjson.gz
//
// dt and hour come from the window start in UTC. A re-delivered window therefore overwrites its
// own object (and, since the gzip stream carries no timestamp, with the same bytes): one object
// per window, exactly once. An empty batch writes nothing. Late data of a window (Batch.Late, with
// Before = N points delivered before) goes to <from>-<to>-lateN.ndjson.gz beside it.
type S3 struct {
	client S3API
	bucket string
	prefix string // without leading or trailing slashes
	logger *slog.Logger
	pool   sync.Pool // *s3Buffers
}

type s3Buffers struct {
	lines []byte
	gz    bytes.Buffer
	zw    *gzip.Writer
}

// NewS3 returns a sink writing to bucket under prefix (slashes around it are ignored).
func NewS3(client S3API, bucket, prefix string, logger *slog.Logger) (*S3, error) {
	if bucket == "" {
		return nil, errors.New("s3 sink: bucket name is empty")
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &S3{client: client, bucket: bucket, prefix: strings.Trim(prefix, "/"), logger: logger}, nil
}

// Name returns "s3://BUCKET/PREFIX".
func (s *S3) Name() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + s.prefix
}

// Key returns the object key of a batch.
func (s *S3) Key(b Batch) string {
	from, to := b.From.UTC(), b.To.UTC()
	var k []byte
	if s.prefix != "" {
		k = append(append(k, s.prefix...), '/')
	}
	k = append(k, "tenant="...)
	k = appendKeySegment(k, b.Tenant)
	k = append(k, "/monitor="...)
	k = appendKeySegment(k, b.Monitor)
	k = from.AppendFormat(append(k, "/dt="...), "2006-01-02")
	k = from.AppendFormat(append(k, "/hour="...), "15")
	k = from.AppendFormat(append(k, '/'), "20060102T150405Z")
	k = to.AppendFormat(append(k, '-'), "20060102T150405Z")
	if b.Late {
		// late data of the window: the points after the first b.Before, an object of its own
		k = strconv.AppendInt(append(k, "-late"...), int64(b.Before), 10)
	}
	return string(append(k, ".ndjson.gz"...))
}

// appendKeySegment keeps letters, digits, '.', '_' and '-' and percent-encodes every other byte,
// so a tenant or monitor can never add a path level or a partition ("/", "=") to the key.
// "." and ".." cannot occur alone: the segment always follows "tenant=" or "monitor=".
func appendKeySegment(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&0xF])
	}
	return dst
}

// Write puts the batch's object and returns nil once S3 has accepted it.
func (s *S3) Write(ctx context.Context, b Batch) error {
	if len(b.Series) == 0 {
		return nil
	}
	if b.Tenant == "" || b.Monitor == "" {
		return fmt.Errorf("%s: batch without tenant or monitor (tenant %q, monitor %q)", s.Name(), b.Tenant, b.Monitor)
	}
	if !b.From.Before(b.To) {
		return fmt.Errorf("%s: batch %s/%s: window %s is empty or reversed", s.Name(), b.Tenant, b.Monitor, windowText(b))
	}
	bufs, _ := s.pool.Get().(*s3Buffers)
	if bufs == nil {
		bufs = &s3Buffers{}
		bufs.zw = gzip.NewWriter(&bufs.gz)
	}
	defer s.pool.Put(bufs)
	bufs.lines = appendNDJSON(bufs.lines[:0], b)
	bufs.gz.Reset()
	bufs.zw.Reset(&bufs.gz)
	if _, err := bufs.zw.Write(bufs.lines); err != nil {
		return fmt.Errorf("%s: gzip: %w", s.Name(), err)
	}
	if err := bufs.zw.Close(); err != nil {
		return fmt.Errorf("%s: gzip: %w", s.Name(), err)
	}

	key := s.Key(b)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(key),
		Body:            bytes.NewReader(bufs.gz.Bytes()),
		ContentLength:   aws.Int64(int64(bufs.gz.Len())),
		ContentType:     aws.String("application/x-ndjson"),
		ContentEncoding: aws.String("gzip"),
		Metadata:        map[string]string{"records": strconv.Itoa(b.Len())},
	})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucket" {
			return fmt.Errorf("%s: put %s: bucket %q does not exist: create it or fix the sink spec: %w", s.Name(), key, s.bucket, err)
		}
		return fmt.Errorf("%s: put %s: %w", s.Name(), key, err)
	}
	s.logger.DebugContext(ctx, "batch written", "sink", s.Name(), "key", key, "records", b.Len(), "bytes", bufs.gz.Len())
	return nil
}

// Close does nothing: every Write is complete when it returns.
func (s *S3) Close(context.Context) error { return nil }
