package console

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

// A connector kept in Secrets Manager (moto): the placeholder the stack writes is replaced by
// "Save and test" only when the test passes, and the page shows the stored connector.
func TestSecretsManagerConnector(t *testing.T) {
	ctx := context.Background()
	moto := awstest.Moto(t)
	moto.Reset(t)
	sm := moto.SecretsClient()
	id := "calm/console-" + strings.ReplaceAll(t.Name(), "/", "-")
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id),
		SecretString: aws.String(`{"name":"prod","placeholder":"fill in with the service key"}`)}); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, sim.Config{})
	tc := startConsole(t, Config{Connectors: Fixed(map[string]secrets.Source{"prod": secrets.SecretsManager(sm, id, 0)})})
	_, page := tc.get(t, "/?c=prod")
	if !strings.Contains(page, "is not filled in yet") || !strings.Contains(page, "secretsmanager:"+id) {
		t.Errorf("the placeholder secret is not reported:\n%s", page)
	}
	form := fieldsOf(t, s)
	form.Set("csrf", csrfInput.FindStringSubmatch(page)[1])
	form.Set("connector", "prod")
	form.Set("name", "prod")
	form.Set("clientSecret", "wrong-one")
	tc.post(t, "/save", form, true)
	read := func() string {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SecretString)
	}
	if !strings.Contains(read(), "placeholder") {
		t.Fatal("a failing test replaced the secret")
	}
	form.Set("clientSecret", simSecret)
	_, body := tc.post(t, "/save", form, true)
	if !strings.Contains(body, `class="saved yes"`) || !strings.Contains(body, "saved to secretsmanager:"+id) {
		t.Fatalf("save to Secrets Manager:\n%s", body)
	}
	settings, _, err := calm.ParseSettings([]byte(read()))
	if err != nil || settings.Name != "prod" || settings.ClientSecret.Reveal() != simSecret {
		t.Errorf("stored %v (%v)", settings, err)
	}
	// A new connector cannot be added to fixed connectors.
	form.Del("connector")
	form.Set("name", "other")
	_, body = tc.post(t, "/save", form, true)
	if !strings.Contains(body, "edits the connectors it was started with") {
		t.Errorf("adding to fixed connectors:\n%s", body)
	}
}
