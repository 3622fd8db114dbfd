package calm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretRedactedEverywhere(t *testing.T) {
	const value = "hunter2-very-secret"
	s := Secret(value)
	settings := Settings{Name: "t", ClientSecret: s, Key: Secret("-----BEGIN PRIVATE KEY-----" + value)}
	var out []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%d"} {
		out = append(out, fmt.Sprintf(f, s), fmt.Sprintf(f, settings), fmt.Sprintf(f, &settings))
	}
	out = append(out, fmt.Sprint(s), fmt.Sprintln(settings), s.String(), s.GoString())
	j, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))
	jm, err := json.Marshal(map[string]Secret{"k": s})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(jm))
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("settings", "secret", s, "settings", settings, "ptr", &settings)
		l.Info("group", slog.Group("g", "secret", s))
	}
	out = append(out, buf.String())
	for _, o := range out {
		if strings.Contains(o, value) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	settings.Certificate = "-----BEGIN CERTIFICATE-----\nMIIBcertificatebody\n-----END CERTIFICATE-----\n"
	for _, o := range []string{fmt.Sprintf("%v", settings), fmt.Sprintf("%#v", settings)} {
		if strings.Contains(o, "MIIBcertificatebody") || !strings.Contains(o, "Certificate:[PEM, 74 bytes]") {
			t.Errorf("certificate printed in full or not at all: %s", o)
		}
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("s", "settings", settings)
	if strings.Contains(buf.String(), "MIIBcertificatebody") || !strings.Contains(buf.String(), "settings.clientSecret=[REDACTED]") {
		t.Errorf("slog: %s", buf.String())
	}
	if !strings.Contains(fmt.Sprintf("%+v", settings), "ClientSecret:[REDACTED]") {
		t.Errorf("%%+v = %+v, want ClientSecret:[REDACTED]", settings)
	}
	if got := fmt.Sprintf("%#v", s); got != `calm.Secret("[REDACTED]")` {
		t.Errorf("%%#v = %s", got)
	}
	if string(j) == "" || !strings.Contains(string(j), `"ClientSecret":"[REDACTED]"`) {
		t.Errorf("json = %s", j)
	}
	if s.Reveal() != value || !s.IsSet() || Secret("").IsSet() {
		t.Errorf("Reveal/IsSet wrong")
	}
}
