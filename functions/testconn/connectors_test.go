package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/secrets"
)

// A connector under the prefix that does not exist yet is created by Save (POST ?save=true for
// a new name), and a second Save puts a new version of the same secret.
func TestConnectorStoreCreatesANewConnector(t *testing.T) {
	ctx := context.Background()
	m := awstest.Moto(t)
	sm := m.SecretsClient()
	const prefix = "calm-collector/TestconnNew/connectors/"
	store := &connectorStore{SecretsManagerSource: secrets.SecretsManager(sm, prefix+"new-eu10", time.Minute), api: sm, prefix: prefix, name: "new-eu10"}
	if _, err := store.Load(ctx); err == nil {
		t.Fatal("the connector exists before it was saved")
	}
	for _, v := range []string{`{"v":1}`, `{"v":2}`} {
		if err := store.Save(ctx, []byte(v)); err != nil {
			t.Fatalf("save %s: %v", v, err)
		}
	}
	fresh := secrets.SecretsManager(sm, prefix+"new-eu10", 0)
	got, err := fresh.Load(ctx)
	if err != nil || string(got) != `{"v":2}` {
		t.Errorf("stored %q, %v; want the second save", got, err)
	}
	cs, err := fleet.List(ctx, sm, prefix)
	if err != nil || len(cs) != 1 || cs[0].Name != "new-eu10" {
		t.Errorf("connectors %+v, %v; want new-eu10", cs, err)
	}
}

// With the stack's customer key (CALM_SECRETS_KMS_KEY), a connector created at run time is
// encrypted with it, as the stack's own secrets are.
func TestConnectorStoreCreatesUnderTheStacksKey(t *testing.T) {
	ctx := context.Background()
	m := awstest.Moto(t)
	sm := m.SecretsClient()
	const prefix = "calm-collector/TestconnKey/connectors/"
	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	store := &connectorStore{SecretsManagerSource: secrets.SecretsManager(sm, prefix+"keyed", time.Minute), api: sm, prefix: prefix, name: "keyed", kmsKey: key}
	if err := store.Save(ctx, []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(prefix + "keyed")})
	if err != nil || aws.ToString(d.KmsKeyId) != key {
		t.Errorf("the new connector's key is %q (%v), want the stack's %s", aws.ToString(d.KmsKeyId), err, key)
	}
}
