package spec

import (
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	for raw, want := range map[string]Spec{
		"stdout":                           {Kind: Stdout, Raw: "stdout"},
		" - ":                              {Kind: Stdout, Raw: "-"}, //nolint:gocritic // mapKey: the spaces are trimmed, that is the case
		"file:/tmp/out.ndjson":             {Kind: File, Raw: "file:/tmp/out.ndjson", Path: "/tmp/out.ndjson"},
		"out/records.ndjson":               {Kind: File, Raw: "out/records.ndjson", Path: "out/records.ndjson"},
		"s3://archive/records":             {Kind: S3, Raw: "s3://archive/records", Bucket: "archive", Prefix: "records"},
		"s3://archive":                     {Kind: S3, Raw: "s3://archive", Bucket: "archive"},
		"otlp+https://c.example.com:4318/": {Kind: OTLP, Raw: "otlp+https://c.example.com:4318/", Base: "https://c.example.com:4318"},
	} {
		got, err := Parse(raw)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
}

func TestParseOTLPBase(t *testing.T) {
	for raw, want := range map[string]string{
		"otlp+https://otlp-gateway-prod-eu-west-2.grafana.net/otlp": "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp",
		"otlp+https://abc12345.live.dynatrace.com/api/v2/otlp/":     "https://abc12345.live.dynatrace.com/api/v2/otlp",
		"otlp+https://collector.example.com:4318":                   "https://collector.example.com:4318",
		"otlp+http://127.0.0.1:4318/":                               "http://127.0.0.1:4318",
		"otlp+http://localhost:4318":                                "http://localhost:4318",
		"otlp+http://[::1]:4318/base":                               "http://[::1]:4318/base",
	} {
		got, err := Parse(raw)
		if err != nil || got.Base != want {
			t.Errorf("Parse(%q).Base = %q, %v; want %q", raw, got.Base, err, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const forms = "write otlp+https://HOST[:PORT][/BASE-PATH], e.g. otlp+https://collector.example.com:4318"
	for raw, want := range map[string]string{
		"":                                       "empty sink spec; " + AcceptedForms,
		"file:":                                  `sink "file:": no path after "file:"; ` + AcceptedForms,
		"s3:///records":                          `sink "s3:///records": no bucket name after "s3://"; ` + AcceptedForms,
		"ftp://host/x":                           `sink "ftp://host/x": unknown scheme; ` + AcceptedForms,
		"otlp+http://collector.example.com:4318": `sink "otlp+http://collector.example.com:4318": plain http is allowed only for loopback hosts; use otlp+https://`,
		"otlp+grpc://collector.example.com:4317": `sink "otlp+grpc://collector.example.com:4317": scheme "grpc" is not supported; ` + forms,
		"otlp+https://":                          `sink "otlp+https://": no host; ` + forms,
		"otlp+https://c.example.com/otlp?token=x":  `sink "otlp+https://c.example.com/otlp?token=x": a query or fragment is not allowed; ` + forms,
		"otlp+https://user:hunter2@c.example.com/": `sink "otlp+https://user:xxxxx@c.example.com/": credentials do not belong in the URL; put them in CALM_OTLP_HEADERS or CALM_OTLP_HEADERS_SECRET`,
	} {
		_, err := Parse(raw)
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error =\n%v\nwant\n%s", raw, err, want)
		}
	}
}

// ForLambda names every problem at once: a bad spec, a file, a repeat; the good ones pass.
func TestForLambdaNamesEveryProblem(t *testing.T) {
	_, err := ForLambda([]string{"stdout", "out.ndjson", "otlp+http://c.example.com", "stdout", "s3://b/records"})
	if err == nil {
		t.Fatal("ForLambda accepted a file sink")
	}
	for _, want := range []string{
		`sink "out.ndjson" is not usable in Lambda; ` + LambdaForms,
		`sink "otlp+http://c.example.com": plain http is allowed only for loopback hosts`,
		`sink "stdout" is listed twice`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("%d problems reported, want 3:\n%v", n, err)
	}

	got, err := ForLambda([]string{"stdout", "s3://b/records", "otlp+https://c.example.com/otlp"})
	if err != nil || len(got) != 3 || got[2].Kind != OTLP {
		t.Errorf("ForLambda(stdout, s3, otlp) = %+v, %v; want three specs", got, err)
	}
	if _, err := ParseList([]string{"out.ndjson", "stdout"}); err != nil {
		t.Errorf("ParseList refused a file, which is fine outside Lambda: %v", err)
	}
}
