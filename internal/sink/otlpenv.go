package sink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// The OTLP sink's settings from the environment and Secrets Manager (docs/otlp.md).

// Environment variables of the OTLP sink, read by OTLPOptionsFromEnv.
const (
	// EnvOTLPHeaders holds headers in the OTEL_EXPORTER_OTLP_HEADERS format: "Key=Value,Key2=Value2",
	// values URL-decoded.
	EnvOTLPHeaders = "CALM_OTLP_HEADERS"
	// EnvOTLPHeadersSecret names a Secrets Manager secret holding a JSON object of headers; its
	// headers override those of EnvOTLPHeaders with the same name.
	EnvOTLPHeadersSecret = "CALM_OTLP_HEADERS_SECRET" //nolint:gosec // G101: a variable's name
	// EnvOTLPAllowPartial "true" accepts a batch the backend answered with a partial success
	// (logging what was rejected) instead of failing it; see OTLPOptions.AllowPartial.
	EnvOTLPAllowPartial = "CALM_OTLP_ALLOW_PARTIAL"
)

// OTLPOptionsFromEnv builds options from the environment: headers from EnvOTLPHeaders and from the
// Secrets Manager secret EnvOTLPHeadersSecret (read with awsCfg; its headers win), and
// EnvOTLPAllowPartial. getenv is os.Getenv outside tests.
func OTLPOptionsFromEnv(ctx context.Context, getenv func(string) string, awsCfg *aws.Config) (OTLPOptions, error) {
	var o OTLPOptions
	var errs []error
	if s := getenv(EnvOTLPHeaders); strings.TrimSpace(s) != "" {
		h, err := ParseOTLPHeaders(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvOTLPHeaders, err))
		}
		o.Headers = h
	}
	if id := strings.TrimSpace(getenv(EnvOTLPHeadersSecret)); id != "" {
		h, err := headersFromSecret(ctx, id, awsCfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvOTLPHeadersSecret, err))
		}
		if o.Headers == nil {
			o.Headers = OTLPHeaders{}
		}
		maps.Copy(o.Headers, h)
	}
	switch v := strings.TrimSpace(getenv(EnvOTLPAllowPartial)); v {
	case "", "false":
	case "true":
		o.AllowPartial = true
	default:
		errs = append(errs, fmt.Errorf("%s: %q is neither true nor false", EnvOTLPAllowPartial, v))
	}
	if err := errors.Join(errs...); err != nil {
		return OTLPOptions{}, err
	}
	return o, nil
}

func headersFromSecret(ctx context.Context, id string, awsCfg *aws.Config) (OTLPHeaders, error) {
	if awsCfg == nil {
		return nil, fmt.Errorf("secret %q: needs an AWS configuration, and the caller gave none", id)
	}
	out, err := secretsmanager.NewFromConfig(*awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("read secret %q: %w", id, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("secret %q has no string value: store a JSON object of headers", id)
	}
	h, err := ParseOTLPHeadersJSON([]byte(*out.SecretString))
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", id, err)
	}
	return h, nil
}
