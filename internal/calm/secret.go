package calm

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// redacted is what a Secret prints as.
const redacted = "[REDACTED]"

// Secret is a string that prints redacted everywhere: fmt verbs (%v %+v %#v %s %q …),
// encoding/json and log/slog. Use Reveal to get the value for the one place that needs it.
type Secret string

// Reveal returns the secret value. Call it only where the value is sent to its owner.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return `calm.Secret("` + redacted + `")` }

// Format implements fmt.Formatter so that every verb and flag prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", redacted)
	default:
		fmt.Fprint(f, redacted)
	}
}

// MarshalJSON implements json.Marshaler: the value is never written.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by map keys, XML, text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// secretKeys are the JSON keys (compared case-insensitively) whose string values are secrets in
// connector settings of either form and in token answers: the one redaction list.
var secretKeys = []string{"clientsecret", "key", "password", "access_token", "refresh_token", "token"}

// minSecretLen is the shortest value treated as a secret: shorter ones would redact ordinary
// words from a text.
const minSecretLen = 4

// SecretValues returns the secret values (client secret, private key, passwords, tokens) found
// anywhere in a settings JSON of either form, also when the settings do not parse, so that a
// report or page can be scrubbed of them as a last guard.
func SecretValues(raw []byte) []string {
	var out []string
	WalkJSONStrings(raw, func(key, val string) {
		if len(val) >= minSecretLen && slices.Contains(secretKeys, strings.ToLower(key)) {
			out = append(out, val)
		}
	})
	return out
}

// WalkJSONStrings calls fn for every string value in a JSON document with the key it is stored
// under (array elements take their array's key; "" at the top level). Invalid JSON calls nothing.
func WalkJSONStrings(raw []byte, fn func(key, val string)) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case string:
			fn(key, v)
		case map[string]any:
			for k, e := range v {
				walk(k, e)
			}
		case []any:
			for _, e := range v {
				walk(key, e)
			}
		}
	}
	walk("", v)
}

// NamesItself reports whether connector settings have a top-level "name" (a service key pasted as
// downloaded has none, and then takes its connector's name).
func NamesItself(raw []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return false
	}
	_, ok := top["name"]
	return ok
}
