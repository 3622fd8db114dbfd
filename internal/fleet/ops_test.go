package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// The stack's placeholder (tagged calm:placeholder, one version) is listed as unfilled and not
// dispatched until a PutSecretValue fills it in; a malformed name under the prefix is named in
// the listing's error (once per tick) instead of being skipped without a word.
func TestPlaceholdersAndMalformedNames(t *testing.T) {
	ctx := context.Background()
	m := awstest.Moto(t)
	cfg := m.AWSConfig(ctx)
	sm, q := secretsmanager.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	const prefix = "calm-collector/OpsTest/connectors/"
	placeholder := `{"name":"todo","placeholder":"fill in"}`
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(prefix + "todo"), SecretString: aws.String(placeholder),
		Tags: []smtypes.Tag{{Key: aws.String(TagPlaceholder), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ready", "Bad_Name"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(prefix + n), SecretString: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := List(ctx, sm, prefix)
	if err == nil || !strings.Contains(err.Error(), "secret "+prefix+"Bad_Name is under the connector prefix but is not collected") {
		t.Errorf("List error %v, want the malformed name named", err)
	}
	if len(cs) != 2 || cs[1].Name != "todo" || !cs[1].Unfilled || cs[0].Unfilled {
		t.Fatalf("List = %+v, want ready and todo (unfilled)", cs)
	}
	qurl, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ops-test")})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)
	if n, err := Dispatch(ctx, q, *qurl.QueueUrl, at, 5*time.Minute, cs); err != nil || n != 1 {
		t.Errorf("Dispatch = %d, %v; want only ready", n, err)
	}
	if got := receiveAll(t, q, *qurl.QueueUrl); len(got) != 1 || got[0] != "ready" {
		t.Errorf("queued %v, want [ready]", got)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(prefix + "todo"), SecretString: aws.String(`{"filled":true}`)}); err != nil {
		t.Fatal(err)
	}
	cs, _ = List(ctx, sm, prefix)
	if len(cs) != 2 || cs[1].Unfilled {
		t.Errorf("after PutSecretValue: %+v, want todo filled in", cs)
	}
}

// Adding a connector again while its removal's recovery window runs answers with the restore
// command.
func TestAddDuringTheRecoveryWindowSaysHowToRestore(t *testing.T) {
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(awstest.Moto(t).AWSConfig(ctx))
	const prefix = "calm-collector/Recovery/connectors/"
	if _, err := Add(ctx, sm, prefix, AddInput{Name: "gone", Secret: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := Remove(ctx, sm, prefix, "gone", 7); err != nil {
		t.Fatal(err)
	}
	_, err := Add(ctx, sm, prefix, AddInput{Name: "gone", Secret: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "aws secretsmanager restore-secret --secret-id "+prefix+"gone") {
		t.Errorf("re-add during the recovery window: %v; want the restore command", err)
	}
}
