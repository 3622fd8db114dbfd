package secrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

const (
	connector   = `{"name":"prod-eu10","authenticationServer":"https://sub.authentication.eu10.hana.ondemand.com","clientId":"sb-calm!b1|sapcloudalm!b2","clientSecret":"s3cr3t-value","url":"https://t.eu10.alm.cloud.sap"}`
	rotated     = `{"name":"prod-eu10","clientSecret":"r0tated-value"}`
	placeholder = `{"placeholder":"replace me","clientSecret":"not-a-real-one"}`
)

// countingClient counts the calls that reach Secrets Manager.
type countingClient struct {
	SecretsManagerAPI
	gets atomic.Int64
}

func (c *countingClient) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.gets.Add(1)
	return c.SecretsManagerAPI.GetSecretValue(ctx, in, opts...)
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func createSecret(t *testing.T, client *secretsmanager.Client, value string) string {
	t.Helper()
	id := "calm/" + strings.ReplaceAll(t.Name(), "/", "-")
	if _, err := client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(id), SecretString: aws.String(value),
	}); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return id
}

func putSecret(t *testing.T, client *secretsmanager.Client, id, value string) {
	t.Helper()
	if _, err := client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value),
	}); err != nil {
		t.Fatalf("put secret: %v", err)
	}
}

func load(t *testing.T, s Source) string {
	t.Helper()
	data, err := s.Load(context.Background())
	if err != nil {
		t.Fatalf("Load %s: %v", s.Name(), err)
	}
	return string(data)
}

func TestSecretsManagerCache(t *testing.T) {
	sm := awstest.Moto(t).SecretsClient()
	id := createSecret(t, sm, connector)
	counting := &countingClient{SecretsManagerAPI: sm}
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	src := SecretsManager(counting, id, time.Minute)
	src.now = clk.Now

	if got := load(t, src); got != connector {
		t.Fatalf("Load = %q, want the stored secret", got)
	}
	putSecret(t, sm, id, rotated) // rotated behind the cache's back

	clk.now = clk.now.Add(59 * time.Second)
	if got := load(t, src); got != connector {
		t.Errorf("within the TTL, Load = %q, want the cached value", got)
	}
	if n := counting.gets.Load(); n != 1 {
		t.Errorf("GetSecretValue calls within the TTL = %d, want 1", n)
	}

	clk.now = clk.now.Add(time.Second)
	if got := load(t, src); got != rotated {
		t.Errorf("after the TTL, Load = %q, want the rotated value", got)
	}
	if n := counting.gets.Load(); n != 2 {
		t.Errorf("GetSecretValue calls after the TTL = %d, want 2", n)
	}
}

func TestSecretsManagerInvalidate(t *testing.T) {
	sm := awstest.Moto(t).SecretsClient()
	id := createSecret(t, sm, connector)
	src := SecretsManager(sm, id, 0) // default TTL: far longer than this test
	if src.ttl != DefaultTTL {
		t.Errorf("ttl = %s, want DefaultTTL", src.ttl)
	}
	load(t, src)
	putSecret(t, sm, id, rotated)
	if got := load(t, src); got != connector {
		t.Fatalf("before Invalidate, Load = %q, want the cached value", got)
	}
	src.Invalidate()
	if got := load(t, src); got != rotated {
		t.Errorf("after Invalidate, Load = %q, want the rotated value", got)
	}
}

func TestSecretsManagerSave(t *testing.T) {
	ctx := context.Background()
	sm := awstest.Moto(t).SecretsClient()
	id := createSecret(t, sm, placeholder)
	counting := &countingClient{SecretsManagerAPI: sm}
	src := SecretsManager(counting, id, time.Hour)
	if err := src.Save(ctx, []byte(connector)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil || aws.ToString(out.SecretString) != connector {
		t.Fatalf("stored secret after Save = %q, %v", aws.ToString(out.SecretString), err)
	}
	if got := load(t, src); got != connector {
		t.Errorf("Load after Save = %q, want the saved value", got)
	}
	if n := counting.gets.Load(); n != 0 {
		t.Errorf("Load after Save read Secrets Manager %d times, want the saved value from the cache", n)
	}
}

func TestSecretsManagerPlaceholder(t *testing.T) {
	sm := awstest.Moto(t).SecretsClient()
	id := createSecret(t, sm, placeholder)
	_, err := SecretsManager(sm, id, time.Minute).Load(context.Background())
	if !errors.Is(err, ErrPlaceholder) {
		t.Fatalf("Load of the placeholder = %v, want ErrPlaceholder", err)
	}
	var pe *PlaceholderError
	if !errors.As(err, &pe) || pe.Secret != id {
		t.Errorf("error = %#v, want *PlaceholderError naming %s", err, id)
	}
	want := "secret " + id + " is not filled in yet: put the BTP service key or the connector fields into it (see README)"
	if err.Error() != want {
		t.Errorf("message = %q\nwant      %q", err, want)
	}
	assertNoContent(t, err)
}

func TestSecretsManagerMissing(t *testing.T) {
	sm := awstest.Moto(t).SecretsClient()
	_, err := SecretsManager(sm, "calm/does-not-exist", time.Minute).Load(context.Background())
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing secret = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "calm/does-not-exist") || !strings.Contains(err.Error(), "check the secret id") {
		t.Errorf("error %q does not name the secret and what to check", err)
	}
}

// A failed read is not cached: once the secret exists, the next Load finds it.
func TestSecretsManagerFailureNotCached(t *testing.T) {
	ctx := context.Background()
	sm := awstest.Moto(t).SecretsClient()
	id := "calm/created-later"
	src := SecretsManager(sm, id, time.Hour)
	if name := src.Name(); name != "secretsmanager:"+id {
		t.Errorf("Name = %q", name)
	}
	if _, err := src.Load(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before creation = %v, want ErrNotFound", err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id), SecretString: aws.String(connector)}); err != nil {
		t.Fatal(err)
	}
	if got := load(t, src); got != connector {
		t.Errorf("Load after creation = %q, want the new secret", got)
	}
}

func TestFileSource(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "conf", "secret.json")
	src := File(path)
	if src.Name() != "file:"+path {
		t.Errorf("Name = %q", src.Name())
	}
	_, err := src.Load(ctx)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load of a missing file = %v, want ErrNotFound naming %s", err, path)
	}
	if err := src.Save(ctx, []byte(connector)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", fi.Mode().Perm())
	}
	if got := load(t, src); got != connector {
		t.Errorf("Load after Save = %q", got)
	}
	if err := src.Save(ctx, []byte(rotated)); err != nil {
		t.Fatalf("second Save: %v", err)
	}
	if got := load(t, src); got != rotated {
		t.Errorf("Load after second Save = %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files beside the secret after Save: %v, want none (no temp files left)", entries)
	}
}

func TestFileSourceRejects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		is      error
		want    string
	}{
		"placeholder": {placeholder, ErrPlaceholder, "is not filled in yet"},
		"empty":       {"", nil, "is empty: put the BTP service key"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := File(path).Load(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load = %v, want an error naming %s and containing %q", err, path, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			assertNoContent(t, err)
		})
	}
	// Content that is not JSON is the settings parser's business, not a placeholder.
	path := filepath.Join(dir, "text")
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := load(t, File(path)); got != "not json" {
		t.Errorf("Load = %q", got)
	}
}

func assertNoContent(t *testing.T, err error) {
	t.Helper()
	for _, secret := range []string{"s3cr3t-value", "r0tated-value", "not-a-real-one", "replace me"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q reveals secret content %q", err, secret)
		}
	}
}
