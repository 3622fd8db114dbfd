package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/calm-collector/calm-collector/internal/calm"
)

// form is the connector form as posted: the fields of "+ Add Connector → Web Service", or the
// BTP service key pasted whole.
type form struct {
	Key                  string // the stored connector being edited; "" for a new one
	Name                 string
	AuthenticationServer string
	ClientID             string
	ClientSecret         string // write-only: never rendered back
	URL                  string
	ServiceKey           string // write-only: holds the secret
	FnConnector          string // function URL mode: the connector name in CALM_SECRET_IDS ("" = default)
}

func readForm(r *http.Request) form {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return form{
		Key:                  v("connector"),
		Name:                 v("name"),
		AuthenticationServer: v("authenticationServer"),
		ClientID:             v("clientId"),
		ClientSecret:         v("clientSecret"),
		URL:                  v("url"),
		ServiceKey:           v("serviceKey"),
		FnConnector:          v("fnConnector"),
	}
}

// empty reports whether nothing but the name was filled in.
func (f form) empty() bool {
	return f.AuthenticationServer == "" && f.ClientID == "" && f.ClientSecret == "" && f.URL == "" && f.ServiceKey == ""
}

// errEmptyForm is returned for a form with nothing to test.
var errEmptyForm = errors.New("fill in authentication server, client ID, client secret and URL, or paste the service key JSON")

// settingsJSON builds the settings to test from the form: the pasted service key when there is
// one, else the fields. An empty client secret keeps the stored connector's (stored may be
// nil), so that the page never needs the secret back.
func (f form) settingsJSON(stored []byte) ([]byte, error) {
	if f.ServiceKey != "" {
		var key map[string]any
		if err := json.Unmarshal([]byte(f.ServiceKey), &key); err != nil {
			return nil, fmt.Errorf("service key: not a JSON object (%s): paste the service key exactly as downloaded from the SAP BTP cockpit", jsonProblem(err))
		}
		if _, ok := key["name"]; !ok && f.Name != "" {
			key["name"] = f.Name
		}
		if uaa, ok := key["uaa"].(map[string]any); ok && stored != nil {
			_, hasSecret := uaa["clientsecret"]
			_, hasKey := uaa["key"]
			if !hasSecret && !hasKey {
				if s, _, err := calm.ParseSettings(stored); err == nil && !s.IsX509() && s.ClientSecret.IsSet() {
					uaa["clientsecret"] = s.ClientSecret.Reveal()
				}
			}
		}
		return json.Marshal(key)
	}
	if f.empty() {
		return nil, errEmptyForm
	}
	c := map[string]string{
		"authenticationServer": f.AuthenticationServer,
		"clientId":             f.ClientID,
		"clientSecret":         f.ClientSecret,
		"url":                  f.URL,
	}
	if f.Name != "" {
		c["name"] = f.Name
	}
	if f.ClientSecret == "" && stored != nil {
		if s, _, err := calm.ParseSettings(stored); err == nil {
			if s.IsX509() {
				delete(c, "clientSecret")
				c["credentialType"] = s.CredentialType
				c["certificate"] = s.Certificate
				c["key"] = s.Key.Reveal()
				c["certUrl"] = s.CertURL
			} else {
				c["clientSecret"] = s.ClientSecret.Reveal()
			}
		}
	}
	return json.Marshal(c)
}

// jsonProblem describes a JSON syntax error without quoting the input (it holds a secret).
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "the value is not an object"
	}
	return "unreadable"
}
