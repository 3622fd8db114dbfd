package state

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func decodeCheckpoint(item map[string]types.AttributeValue) (Checkpoint, error) {
	var cp Checkpoint
	var errs []error
	get := func(name string) string {
		v, err := getS(item, name)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	getT := func(name string) time.Time {
		t, err := getTime(item, name)
		if err != nil {
			errs = append(errs, err)
		}
		return t
	}
	getN := func(name string) int {
		v, err := getInt(item, name)
		if err != nil {
			errs = append(errs, err)
		}
		return int(v)
	}
	cp.Tenant = get("tenant")
	cp.Monitor = get("monitor")
	cp.Next = getT("next")
	cp.UpdatedAt = getT("updatedAt")
	cp.LastRunAt = getT("lastRunAt")
	cp.LastSuccess = getT("lastSuccess")
	cp.LastError = get("lastError")
	if h, ok := item["host"].(*types.AttributeValueMemberS); ok {
		cp.Host = h.Value // optional: absent in state written before hosts were recorded
	}
	cp.LastPoints = getN("lastPoints")
	cp.LastWindows = getN("lastWindows")
	cp.Cap = getN("cap")
	cp.Delay = time.Duration(getN("delayMs")) * time.Millisecond
	if err := errors.Join(errs...); err != nil {
		return Checkpoint{}, fmt.Errorf("corrupt checkpoint item: %w", err)
	}
	return cp, nil
}

func decodeLease(item map[string]types.AttributeValue) (Lease, error) {
	tenant, err1 := getS(item, attrPK)
	owner, err2 := getS(item, "owner")
	exp, err3 := getTime(item, "expires")
	if err := errors.Join(err1, err2, err3); err != nil {
		return Lease{}, fmt.Errorf("corrupt lease item: %w", err)
	}
	return Lease{Tenant: tenant, Owner: owner, Expires: exp}, nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(item map[string]types.AttributeValue, name string) (string, error) {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("attribute %s is %T, want a string", name, v)
	}
}

func getInt(item map[string]types.AttributeValue, name string) (int64, error) {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("attribute %s: %w", name, err)
		}
		return n, nil
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("attribute %s is %T, want a number", name, v)
	}
}

func getTime(item map[string]types.AttributeValue, name string) (time.Time, error) {
	s, err := getS(item, name)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %s: %w", name, err)
	}
	return t, nil
}

// formatTime writes a time as RFC 3339 UTC; the zero time as "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ttlSeconds is the TTL attribute for something expiring at t: epoch seconds, rounded up so that
// DynamoDB never deletes it early.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
