package state

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

var tableSeq atomic.Int64

// newTable creates a fresh state table in moto for one test.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	client := awstest.Moto(t).DynamoClient()
	name := fmt.Sprintf("calm-state-%d", tableSeq.Add(1))
	if err := CreateTable(context.Background(), client, name); err != nil {
		t.Fatal(err)
	}
	return client, name
}

// TestDynamoStoreConformance runs testConformance against moto; the acquire race is not run here
// (see testAcquireRace for why).
func TestDynamoStoreConformance(t *testing.T) {
	testConformance(t, func(t *testing.T, c *testkit.Clock) Store {
		client, table := newTable(t)
		return NewDynamoStore(client, table, WithClock(c.Now))
	})
}

// The table must match what the CDK stack deploys: pk/sk strings and TTL on expiresAt.
func TestCreateTableLayout(t *testing.T) {
	ctx := context.Background()
	client, table := newTable(t)
	if err := CreateTable(ctx, client, table); err != nil {
		t.Fatalf("CreateTable on an existing table = %v, want nil", err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range desc.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	if got := strings.Join(keys, ","); got != "pk:HASH,sk:RANGE" {
		t.Errorf("key schema = %s, want pk:HASH,sk:RANGE", got)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expiresAt" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("ttl = %+v, want enabled on expiresAt", d)
	}
}

// TTL deletion needs expiresAt in epoch seconds, never earlier than the real expiry.
func TestDynamoMarkItemLayout(t *testing.T) {
	ctx := context.Background()
	client, table := newTable(t)
	s := NewDynamoStore(client, table)
	exp := time.Date(2026, 11, 25, 10, 0, 0, 500_000_000, time.UTC)
	if err := s.PutMarks(ctx, "t1", "bsm", exp.Add(-time.Hour), map[string]Mark{"ev-1": {Hash: "h", Expires: exp}}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("t1", "mark#bsm#ev-1")})
	if err != nil || out.Item == nil {
		t.Fatalf("mark item: %v, %v", out, err)
	}
	n, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok || n.Value != fmt.Sprint(exp.Unix()+1) {
		t.Errorf("expiresAt = %#v, want N %d (rounded up)", out.Item["expiresAt"], exp.Unix()+1)
	}
}

func TestOpenDynamo(t *testing.T) {
	ctx := context.Background()
	moto := awstest.Moto(t)
	_, table := newTable(t)
	cfg := moto.AWSConfig(ctx)
	s, err := Open(ctx, "dynamodb://"+table, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ds, ok := s.(*DynamoStore); !ok || ds.Table() != table {
		t.Fatalf("Open = %T, want a DynamoStore on %s", s, table)
	}
	if err := s.Put(ctx, Checkpoint{Tenant: "t1", Monitor: "hm", Next: time.Unix(60, 0)}); err != nil {
		t.Fatalf("Put through Open's store: %v", err)
	}
}
