// Package spec is the one rule for a sink spec: what each form means, and which forms a Lambda
// function can use. The sinks (internal/sink), calmctl, the collect function and the CDK app all
// call it, so a stack can never write a CALM_SINKS that its function refuses. It imports only the
// standard library and the loopback rule, so the CDK app applies it at synth without linking the
// sinks themselves.
package spec

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/calm-collector/calm-collector/internal/loopback"
)

// Kind is what a spec names.
type Kind int

// The kinds of sink.
const (
	Stdout Kind = iota + 1 // "stdout" or "-"
	File                   // "file:PATH" or a plain path
	S3                     // "s3://BUCKET[/PREFIX]"
	OTLP                   // "otlp+https://HOST[:PORT][/BASE]"
)

// AcceptedForms is the tail of every bad-spec error.
const AcceptedForms = `accepted forms: "stdout", "-", "file:PATH", a plain file path, "s3://BUCKET[/PREFIX]", "otlp+https://HOST[:PORT][/BASE]"`

// LambdaForms is the tail of an error for a spec a Lambda function cannot use.
const LambdaForms = `use "stdout", "s3://BUCKET/PREFIX" or "otlp+https://HOST[:PORT][/BASE]" (files do not outlive a Lambda run)`

// otlpForms is the tail of every bad OTLP spec error.
const otlpForms = `write otlp+https://HOST[:PORT][/BASE-PATH], e.g. otlp+https://collector.example.com:4318`

// Spec is one parsed sink spec.
type Spec struct {
	Kind Kind
	// Raw is the spec as written (spaces trimmed).
	Raw string
	// Path is the file of a File spec.
	Path string
	// Bucket and Prefix are the place of an S3 spec.
	Bucket, Prefix string
	// Base is the base URL of an OTLP spec, without "otlp+" and without a trailing slash,
	// e.g. "https://collector.example.com:4318".
	Base string
}

// Parse reads one spec:
//
//	"stdout" or "-"        NDJSON lines to standard output
//	"file:PATH" or PATH    NDJSON appended to PATH
//	"s3://BUCKET[/PREFIX]" one gzip NDJSON object per window
//	"otlp+https://HOST[:PORT][/BASE]" OTLP/HTTP export ("otlp+http://" for loopback hosts only)
//
// Errors quote the spec with any password in it redacted.
func Parse(raw string) (Spec, error) {
	raw = strings.TrimSpace(raw)
	s := Spec{Raw: raw}
	switch {
	case raw == "":
		return Spec{}, fmt.Errorf("empty sink spec; %s", AcceptedForms)
	case raw == "stdout" || raw == "-":
		s.Kind = Stdout
	case strings.HasPrefix(raw, "file:"):
		s.Kind, s.Path = File, strings.TrimPrefix(raw, "file:")
		if s.Path == "" {
			return Spec{}, fmt.Errorf("sink %q: no path after \"file:\"; %s", raw, AcceptedForms)
		}
	case strings.HasPrefix(raw, "s3://"):
		s.Kind = S3
		s.Bucket, s.Prefix, _ = strings.Cut(strings.TrimPrefix(raw, "s3://"), "/")
		if s.Bucket == "" {
			return Spec{}, fmt.Errorf("sink %q: no bucket name after \"s3://\"; %s", raw, AcceptedForms)
		}
	case strings.HasPrefix(raw, "otlp+"):
		base, err := otlpBase(raw)
		if err != nil {
			return Spec{}, err
		}
		s.Kind, s.Base = OTLP, base
	case strings.Contains(raw, "://"):
		return Spec{}, fmt.Errorf("sink %q: unknown scheme; %s", Redact(raw), AcceptedForms)
	default:
		s.Kind, s.Path = File, raw
	}
	return s, nil
}

// ParseList parses every spec and reports every bad or repeated one at once; the specs it
// returns are the good ones, also when there is an error.
func ParseList(raws []string) ([]Spec, error) { return parseAll(raws, false) }

// InLambda reports whether a Lambda function can use the spec: every kind but a file, which does
// not outlive the run.
func (s Spec) InLambda() error {
	if s.Kind == File {
		return fmt.Errorf("sink %q is not usable in Lambda; %s", s.Raw, LambdaForms)
	}
	return nil
}

// ForLambda is ParseList that also refuses what InLambda refuses, every problem named at once.
// The collect function applies it to CALM_SINKS, the CDK app to the stack's sinks at synth.
func ForLambda(raws []string) ([]Spec, error) { return parseAll(raws, true) }

func parseAll(raws []string, lambda bool) ([]Spec, error) {
	out := make([]Spec, 0, len(raws))
	var errs []error
	seen := map[string]bool{}
	for _, raw := range raws {
		s, err := Parse(raw)
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case seen[s.Raw]:
			errs = append(errs, fmt.Errorf("sink %q is listed twice: every record would be written twice", Redact(s.Raw)))
			continue
		}
		seen[s.Raw] = true
		if lambda {
			if err := s.InLambda(); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

func otlpBase(raw string) (string, error) {
	shown := Redact(raw)
	u, err := url.Parse(strings.TrimPrefix(raw, "otlp+"))
	if err != nil {
		return "", fmt.Errorf("sink %q: not a URL; %s", shown, otlpForms)
	}
	switch {
	case u.User != nil:
		return "", fmt.Errorf("sink %q: credentials do not belong in the URL; put them in CALM_OTLP_HEADERS or CALM_OTLP_HEADERS_SECRET", shown)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("sink %q: scheme %q is not supported; %s", shown, u.Scheme, otlpForms)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("sink %q: no host; %s", shown, otlpForms)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("sink %q: a query or fragment is not allowed; %s", shown, otlpForms)
	case u.Scheme == "http" && !loopback.Host(u.Hostname()):
		return "", fmt.Errorf("sink %q: plain http is allowed only for loopback hosts; use otlp+https://", shown)
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// Redact hides a password put into an OTLP spec by mistake.
func Redact(raw string) string {
	rest, ok := strings.CutPrefix(raw, "otlp+")
	if u, err := url.Parse(rest); ok && err == nil && u.User != nil {
		return "otlp+" + u.Redacted()
	}
	return raw
}

// Problems splits an error of ParseList or ForLambda into its problems, one per bad spec, so
// that a caller can name its own setting in front of each (CALM_SINKS, the stack's "sinks").
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
