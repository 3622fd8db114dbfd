package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB item layout. pk is the tenant; sk says what the item is:
//
//	checkpoint#<monitor>    next (S, RFC 3339), nextMs (N), the other Checkpoint fields
//	lease                   owner (S), expires (S), expiresAtMs (N), expiresAt (N, TTL)
//	mark#<monitor>#<key>    hash (S), expires (S), expiresAtMs (N), expiresAt (N, TTL), open (S, only while an event is open)
//
// Conditions compare the millisecond numbers; the strings keep the exact times. expiresAt (epoch
// seconds, rounded up) lets DynamoDB's TTL delete old leases and marks; reads never rely on it,
// since TTL deletion can lag by days.
const (
	attrPK          = "pk"
	attrSK          = "sk"
	attrTTL         = "expiresAt"
	skCheckpoint    = "checkpoint#"
	skLease         = "lease"
	skMark          = "mark#"
	batchWriteLimit = 25 // BatchWriteItem's item limit
)

// DynamoStore keeps state in a DynamoDB table with partition key "pk" (S), sort key "sk" (S) and
// TTL attribute "expiresAt". Checkpoint and lease changes are conditional writes, so concurrent
// runs cannot move a checkpoint backwards or both hold a lease.
type DynamoStore struct {
	client *dynamodb.Client
	table  string
	now    func() time.Time
}

// NewDynamoStore returns a store on an existing table (see CreateTable).
func NewDynamoStore(client *dynamodb.Client, table string, opts ...Option) *DynamoStore {
	return &DynamoStore{client: client, table: table, now: buildOptions(opts).now}
}

// Table returns the table's name.
func (s *DynamoStore) Table() string { return s.table }

// CreateTable creates a state table with the layout the CDK stack deploys (pay per request, TTL on
// "expiresAt") and waits until it is active. A table that already exists is left as it is. It is for
// tests and local runs; in AWS the stack owns the table.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create state table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for state table %s: %w", name, err)
	}
	if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true),
		},
	}); err != nil {
		return fmt.Errorf("enable ttl on state table %s: %w", name, err)
	}
	return nil
}

// Get implements Store.
func (s *DynamoStore) Get(ctx context.Context, tenant, monitor string) (Checkpoint, bool, error) {
	if err := checkNames(tenant, monitor, true); err != nil {
		return Checkpoint{}, false, fmt.Errorf("get checkpoint: %w", err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(tenant, skCheckpoint+monitor),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("get checkpoint %s/%s from %s: %w", tenant, monitor, s.table, err)
	}
	if out.Item == nil {
		return Checkpoint{}, false, nil
	}
	cp, err := decodeCheckpoint(out.Item)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("get checkpoint %s/%s from %s: %w", tenant, monitor, s.table, err)
	}
	return cp, true, nil
}

// List implements Store.
func (s *DynamoStore) List(ctx context.Context, tenant string) ([]Checkpoint, error) {
	if err := checkNames(tenant, "", false); err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var cps []Checkpoint
	err := s.query(ctx, tenant, skCheckpoint, func(item map[string]types.AttributeValue) error {
		cp, err := decodeCheckpoint(item)
		if err != nil {
			return err
		}
		cps = append(cps, cp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list checkpoints of %s from %s: %w", tenant, s.table, err)
	}
	slices.SortFunc(cps, func(a, b Checkpoint) int { return strings.Compare(a.Monitor, b.Monitor) })
	return cps, nil
}

// Put implements Store.
func (s *DynamoStore) Put(ctx context.Context, cp Checkpoint) error {
	if err := checkNames(cp.Tenant, cp.Monitor, true); err != nil {
		return fmt.Errorf("put checkpoint: %w", err)
	}
	if cp.UpdatedAt.IsZero() {
		cp.UpdatedAt = s.now().UTC()
	}
	item := key(cp.Tenant, skCheckpoint+cp.Monitor)
	item["tenant"] = str(cp.Tenant)
	item["monitor"] = str(cp.Monitor)
	item["next"] = str(formatTime(cp.Next))
	item["nextMs"] = num(cp.Next.UnixMilli())
	item["updatedAt"] = str(formatTime(cp.UpdatedAt))
	item["lastRunAt"] = str(formatTime(cp.LastRunAt))
	item["lastSuccess"] = str(formatTime(cp.LastSuccess))
	item["lastError"] = str(cp.LastError)
	item["lastPoints"] = num(int64(cp.LastPoints))
	item["lastWindows"] = num(int64(cp.LastWindows))
	if cp.Cap > 0 {
		item["cap"] = num(int64(cp.Cap))
	}
	if cp.Delay > 0 {
		item["delayMs"] = num(cp.Delay.Milliseconds())
	}
	if cp.Host != "" {
		item["host"] = str(cp.Host)
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR nextMs <= :next"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":next": num(cp.Next.UnixMilli())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		stored := "a later one"
		if old, derr := decodeCheckpoint(failed.Item); derr == nil && failed.Item != nil {
			stored = "the stored " + formatTime(old.Next)
		}
		return fmt.Errorf("put checkpoint %s/%s: next %s is before %s: %w",
			cp.Tenant, cp.Monitor, formatTime(cp.Next), stored, ErrStale)
	}
	if err != nil {
		return fmt.Errorf("put checkpoint %s/%s to %s: %w", cp.Tenant, cp.Monitor, s.table, err)
	}
	return nil
}

// Acquire implements Store.
func (s *DynamoStore) Acquire(ctx context.Context, tenant, owner string, ttl time.Duration) (Lease, error) {
	if err := errors.Join(checkNames(tenant, "", false), checkOwner(owner), checkTTL(ttl)); err != nil {
		return Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	now := s.now()
	l := Lease{Tenant: tenant, Owner: owner, Expires: leaseExpiry(now, ttl)}
	err := s.putLease(ctx, l, "attribute_not_exists(pk) OR expiresAtMs < :now OR #owner = :me", now)
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease of %s: %w", tenant, s.leaseConflict(ctx, err, l, now))
	}
	return l, nil
}

// Renew implements Store.
func (s *DynamoStore) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := errors.Join(checkNames(l.Tenant, "", false), checkOwner(l.Owner), checkTTL(ttl)); err != nil {
		return Lease{}, fmt.Errorf("renew lease: %w", err)
	}
	now := s.now()
	renewed := Lease{Tenant: l.Tenant, Owner: l.Owner, Expires: leaseExpiry(now, ttl)}
	if err := s.putLease(ctx, renewed, "#owner = :me", now); err != nil {
		return Lease{}, fmt.Errorf("renew lease of %s for %s: %w", l.Tenant, l.Owner, s.leaseConflict(ctx, err, l, now))
	}
	return renewed, nil
}

// Release implements Store.
func (s *DynamoStore) Release(ctx context.Context, l Lease) error {
	if err := errors.Join(checkNames(l.Tenant, "", false), checkOwner(l.Owner)); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(l.Tenant, skLease),
		ConditionExpression:       aws.String("#owner = :me"),
		ExpressionAttributeNames:  map[string]string{"#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": str(l.Owner)},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		err = ErrNotHeld
	}
	if err != nil {
		return fmt.Errorf("release lease of %s for %s: %w", l.Tenant, l.Owner, err)
	}
	return nil
}

func (s *DynamoStore) putLease(ctx context.Context, l Lease, cond string, now time.Time) error {
	item := key(l.Tenant, skLease)
	item["owner"] = str(l.Owner)
	item["expires"] = str(formatTime(l.Expires))
	item["expiresAtMs"] = num(l.Expires.UnixMilli())
	item[attrTTL] = num(ttlSeconds(l.Expires))
	values := map[string]types.AttributeValue{":me": str(l.Owner)}
	if strings.Contains(cond, ":now") {
		values[":now"] = num(now.UnixMilli())
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            map[string]string{"#owner": "owner"},
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return err
}

// leaseConflict turns a failed conditional lease write into *HeldError or ErrNotHeld.
func (s *DynamoStore) leaseConflict(ctx context.Context, err error, l Lease, now time.Time) error {
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		return err
	}
	item := failed.Item
	if item == nil { // not every DynamoDB look-alike returns the old item: read it
		out, gerr := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: key(l.Tenant, skLease), ConsistentRead: aws.Bool(true),
		})
		if gerr != nil {
			return fmt.Errorf("lease is taken; reading its holder: %w", gerr)
		}
		item = out.Item
	}
	if item == nil {
		return ErrNotHeld
	}
	cur, derr := decodeLease(item)
	if derr != nil {
		return derr
	}
	if cur.Owner == l.Owner || expired(cur.Expires, now) {
		return ErrNotHeld
	}
	return &HeldError{Tenant: l.Tenant, Owner: cur.Owner, Expires: cur.Expires}
}

// Marks implements Store.
func (s *DynamoStore) Marks(ctx context.Context, tenant, monitor string, now time.Time) (map[string]Mark, error) {
	if err := checkNames(tenant, monitor, true); err != nil {
		return nil, fmt.Errorf("get marks: %w", err)
	}
	prefix := skMark + monitor + "#"
	nowMs := now.UnixMilli()
	marks := map[string]Mark{}
	err := s.query(ctx, tenant, prefix, func(item map[string]types.AttributeValue) error {
		sk, _ := getS(item, attrSK)
		exp, err := getTime(item, "expires")
		if err != nil {
			return fmt.Errorf("mark %s: %w", sk, err)
		}
		if exp.UnixMilli() <= nowMs {
			return nil // expired; TTL will delete it
		}
		hash, _ := getS(item, "hash")
		open, err := getTime(item, "open")
		if err != nil {
			return fmt.Errorf("mark %s: %w", sk, err)
		}
		marks[strings.TrimPrefix(sk, prefix)] = Mark{Hash: hash, Expires: exp, Open: open}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get marks %s/%s from %s: %w", tenant, monitor, s.table, err)
	}
	return marks, nil
}

// PutMarks implements Store.
func (s *DynamoStore) PutMarks(ctx context.Context, tenant, monitor string, _ time.Time, marks map[string]Mark) error {
	if err := checkNames(tenant, monitor, true); err != nil {
		return fmt.Errorf("put marks: %w", err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range marks {
			if !yield(k) {
				return
			}
		}
	})
	for chunk := range slices.Chunk(keys, batchWriteLimit) {
		reqs := make([]types.WriteRequest, 0, len(chunk))
		for _, k := range chunk {
			m := marks[k]
			item := key(tenant, skMark+monitor+"#"+k)
			item["hash"] = str(m.Hash)
			item["expires"] = str(formatTime(m.Expires))
			item["expiresAtMs"] = num(m.Expires.UnixMilli())
			item[attrTTL] = num(ttlSeconds(m.Expires))
			if !m.Open.IsZero() {
				item["open"] = str(formatTime(m.Open))
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("put marks %s/%s to %s: %w", tenant, monitor, s.table, err)
		}
	}
	return nil
}

// batchWrite writes reqs, retrying the items DynamoDB leaves unprocessed under throttling.
func (s *DynamoStore) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	delay := 50 * time.Millisecond
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			if attempt == 8 {
				return fmt.Errorf("%d items still unprocessed after %d attempts", len(reqs), attempt)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			delay *= 2
		}
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return err
		}
		reqs = out.UnprocessedItems[s.table]
	}
	return nil
}

// query calls fn for every item of tenant whose sort key starts with prefix.
func (s *DynamoStore) query(ctx context.Context, tenant, prefix string, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(tenant), ":prefix": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}
