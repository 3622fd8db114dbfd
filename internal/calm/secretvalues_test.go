package calm

import (
	"slices"
	"testing"
)

func TestSecretValuesFindsEverySecretOfBothForms(t *testing.T) {
	for name, tc := range map[string]struct {
		raw  string
		want []string
	}{
		"connector fields":            {`{"name":"n","clientId":"sb-x","clientSecret":"s3cr3t-value","url":"https://t.eu10.alm.cloud.sap"}`, []string{"s3cr3t-value"}},
		"service key, binding secret": {`{"uaa":{"clientid":"sb-x","clientsecret":"s3cr3t-value","url":"https://a"}}`, []string{"s3cr3t-value"}},
		"service key, x509":           {`{"uaa":{"clientid":"sb-x","certificate":"-----CERT","key":"-----PRIVATE KEY"}}`, []string{"-----PRIVATE KEY"}},
		"tokens and passwords": {`{"access_token":"eyJabc","Refresh_Token":"r3fresh","token":"tok1","password":"pa55"}`,
			[]string{"eyJabc", "pa55", "r3fresh", "tok1"}},
		"short values are not secrets":    {`{"clientSecret":"abc"}`, nil},
		"settings that do not parse":      {`{"clientSecret":"s3cr3t-value"`, nil},
		"values in arrays keep their key": {`{"clientSecret":["s3cr3t-1","s3cr3t-2"]}`, []string{"s3cr3t-1", "s3cr3t-2"}},
	} {
		got := SecretValues([]byte(tc.raw))
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: SecretValues = %q, want %q", name, got, tc.want)
		}
	}
}

func TestNamesItself(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"name":"prod","clientId":"x"}`: true, `{"uaa":{"name":"inner"}}`: false, `{"name":null}`: true,
		`not json`: false, `["name"]`: false,
	} {
		if got := NamesItself([]byte(raw)); got != want {
			t.Errorf("NamesItself(%s) = %v, want %v", raw, got, want)
		}
	}
}
