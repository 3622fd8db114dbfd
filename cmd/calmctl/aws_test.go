package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// loadAWS says in one line which region or credential is missing, naming what to set, with
// nothing from the machine's own AWS set-up (files, profile, instance role) in the way.
func TestLoadAWSSaysWhatIsMissing(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	clean := map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": none,
		"AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "CALM_ENDPOINT_URL": ""}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no region", nil, "no AWS region: set AWS_REGION"},
		{"no credentials", map[string]string{"AWS_REGION": "eu-central-1"}, "no AWS credentials: set AWS_PROFILE"},
		{"half a key", map[string]string{"AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"},
			"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"},
		{"unknown profile", map[string]string{"AWS_REGION": "eu-central-1", "AWS_PROFILE": "nope"}, "AWS_PROFILE=nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range clean {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := loadAWS(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("loadAWS = %v; want one line with %q", err, tc.want)
			}
		})
	}
}
