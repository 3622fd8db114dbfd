package testkit

import (
	"encoding/json"
	"strings"
)

// SecretsIn returns the secret values of a settings document (connector fields or a service
// key: clientSecret, key, uaa.clientsecret, uaa.key) worth looking for in output: at least 8
// characters, so not a common word, and present once in data (a value that is also another
// field's value may rightly be quoted as that field). The fuzzers use it to check that no
// answer, error or log line holds a secret.
func SecretsIn(data []byte) []string {
	var doc struct {
		ClientSecret any `json:"clientSecret"`
		Key          any `json:"key"`
		UAA          struct {
			ClientSecret any `json:"clientsecret"`
			Key          any `json:"key"`
		} `json:"uaa"`
	}
	_ = json.Unmarshal(data, &doc) // a document that is not JSON has no secret to look for
	var out []string
	for _, v := range []any{doc.ClientSecret, doc.Key, doc.UAA.ClientSecret, doc.UAA.Key} {
		if s, ok := v.(string); ok {
			s = strings.TrimSpace(s)
			if len(s) >= 8 && strings.Count(string(data), s) == 1 {
				out = append(out, s)
			}
		}
	}
	return out
}
