package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Usage is a tenant's API transfer of one UTC month: the bytes of the API's answers on the wire,
// summed over the month's runs (docs/transfer.md, "The quota as a budget").
type Usage struct {
	Tenant   string    `json:"tenant"`
	Month    string    `json:"month"` // UTC month, 2026-12
	APIBytes int64     `json:"apiBytes"`
	Updated  time.Time `json:"updatedAt,omitzero"` // when bytes were last added (the store's clock)
}

// UsageStore keeps each tenant's API bytes per UTC month. Both stores implement it.
type UsageStore interface {
	// AddUsage adds bytes to the tenant's month and returns the month's usage after it.
	AddUsage(ctx context.Context, tenant, month string, bytes int64) (Usage, error)
}

// UsageMonth is the UTC month of t as the stores key it: 2026-12. Callers pass the run's clock,
// never the wall clock.
func UsageMonth(t time.Time) string { return t.UTC().Format("2006-01") }

var monthRe = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// checkUsage checks what AddUsage is given, every problem at once.
func checkUsage(tenant, month string, bytes int64) error {
	errs := []error{checkNames(tenant, "", false)}
	if !monthRe.MatchString(month) {
		errs = append(errs, fmt.Errorf("month %q is not a UTC month like 2026-12 (state.UsageMonth)", month))
	}
	if bytes < 0 {
		errs = append(errs, fmt.Errorf("bytes %d is negative", bytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("add usage: %w", err)
	}
	return nil
}

// skUsage is the sort key of a tenant's usage of one month in the DynamoDB table:
//
//	usage#2026-12    tenant (S), month (S), apiBytes (N), updatedAt (S)
func skUsage(month string) string { return "usage#" + month }

// AddUsage implements UsageStore.
func (s *FileStore) AddUsage(_ context.Context, tenant, month string, bytes int64) (Usage, error) {
	if err := checkUsage(tenant, month, bytes); err != nil {
		return Usage{}, err
	}
	var u Usage
	err := s.locked(tenant, func(dir string) error {
		path := filepath.Join(dir, "usage-"+month+".json")
		if _, err := readJSON(path, &u); err != nil {
			return err
		}
		u.Tenant, u.Month, u.APIBytes, u.Updated = tenant, month, u.APIBytes+bytes, s.now().UTC()
		return writeJSON(path, u)
	})
	if err != nil {
		return Usage{}, fmt.Errorf("add usage of %s in %s: %w", tenant, month, err)
	}
	return u, nil
}

// AddUsage implements UsageStore: one atomic ADD, so runs that overlap never lose bytes.
func (s *DynamoStore) AddUsage(ctx context.Context, tenant, month string, bytes int64) (Usage, error) {
	if err := checkUsage(tenant, month, bytes); err != nil {
		return Usage{}, err
	}
	now := s.now().UTC()
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(tenant, skUsage(month)),
		UpdateExpression:         aws.String("ADD apiBytes :b SET tenant = :t, #m = :m, updatedAt = :u"),
		ExpressionAttributeNames: map[string]string{"#m": "month"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":b": num(bytes), ":t": str(tenant), ":m": str(month), ":u": str(formatTime(now)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return Usage{}, fmt.Errorf("add usage of %s in %s to %s: %w", tenant, month, s.table, err)
	}
	u := Usage{Tenant: tenant, Month: month}
	if u.APIBytes, err = getInt(out.Attributes, "apiBytes"); err == nil {
		u.Updated, err = getTime(out.Attributes, "updatedAt")
	}
	if err != nil {
		return Usage{}, fmt.Errorf("add usage of %s in %s to %s: %w", tenant, month, s.table, err)
	}
	return u, nil
}
