package state

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Formats is what a tenant's API was found to serve, remembered between runs so that a run
// does not ask for a format the tenant refused a moment ago (docs/transfer.md).
type Formats struct {
	Tenant string `json:"tenant"`
	// BinaryRefusedAt is when the metrics API last refused format=protobuf-binary; zero when
	// it never did or served it since. A run asks for binary again once it is old enough.
	BinaryRefusedAt time.Time `json:"binaryRefusedAt,omitzero"`
	// Stamping is what time the metrics API stamps a data point with: "start" or "end" of its
	// bucket; "" while unknown (docs/cloud-alm-api.md, "Time windows").
	Stamping string `json:"stamping,omitempty"`
	// FromTo is whether the metrics API honours from/to: "honoured", "ignored" (a run reads by
	// period while FromToAt is younger than a day) or "unknown" (no data to tell at FromToAt);
	// "" while never asked.
	FromTo   string    `json:"fromTo,omitempty"`
	FromToAt time.Time `json:"fromToAt,omitzero"`
	// ServiceList is how several serviceId values are sent: "comma" (serviceId=a,b,c),
	// "repeat" (serviceId=a&serviceId=b) or "single" (one service a request, as when
	// unknown); learned at ServiceListAt.
	ServiceList   string    `json:"serviceList,omitempty"`
	ServiceListAt time.Time `json:"serviceListAt,omitzero"`
	UpdatedAt     time.Time `json:"updatedAt,omitzero"` // when it was stored; PutFormats fills it in when zero
}

// FormatStore remembers each tenant's Formats. Both stores implement it.
type FormatStore interface {
	// Formats returns the tenant's formats; false when none are stored.
	Formats(ctx context.Context, tenant string) (Formats, bool, error)
	// PutFormats stores the tenant's formats, replacing what was stored.
	PutFormats(ctx context.Context, f Formats) error
}

// skFormats is the sort key of a tenant's formats in the DynamoDB table:
//
//	formats    tenant (S), binaryRefusedAt (S), stamping (S), fromTo (S), fromToAt (S), serviceList (S),
//	           serviceListAt (S), updatedAt (S)
const skFormats = "formats"

// Formats implements FormatStore.
func (s *FileStore) Formats(_ context.Context, tenant string) (Formats, bool, error) {
	if err := checkNames(tenant, "", false); err != nil {
		return Formats{}, false, fmt.Errorf("get formats: %w", err)
	}
	var f Formats
	ok, err := readJSON(filepath.Join(s.tenantDir(tenant), "formats.json"), &f)
	if err != nil {
		return Formats{}, false, fmt.Errorf("get formats of %s: %w", tenant, err)
	}
	return f, ok, nil
}

// PutFormats implements FormatStore.
func (s *FileStore) PutFormats(_ context.Context, f Formats) error {
	if err := checkNames(f.Tenant, "", false); err != nil {
		return fmt.Errorf("put formats: %w", err)
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = s.now().UTC()
	}
	return s.locked(f.Tenant, func(dir string) error {
		if err := writeJSON(filepath.Join(dir, "formats.json"), f); err != nil {
			return fmt.Errorf("put formats of %s: %w", f.Tenant, err)
		}
		return nil
	})
}

// Formats implements FormatStore.
func (s *DynamoStore) Formats(ctx context.Context, tenant string) (Formats, bool, error) {
	if err := checkNames(tenant, "", false); err != nil {
		return Formats{}, false, fmt.Errorf("get formats: %w", err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(tenant, skFormats), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Formats{}, false, fmt.Errorf("get formats of %s from %s: %w", tenant, s.table, err)
	}
	if out.Item == nil {
		return Formats{}, false, nil
	}
	f := Formats{Tenant: tenant}
	if f.BinaryRefusedAt, err = getTime(out.Item, "binaryRefusedAt"); err == nil {
		f.UpdatedAt, err = getTime(out.Item, "updatedAt")
	}
	if err == nil {
		f.FromToAt, err = getTime(out.Item, "fromToAt")
	}
	if err == nil {
		f.FromTo, err = getS(out.Item, "fromTo")
	}
	if err == nil {
		f.ServiceListAt, err = getTime(out.Item, "serviceListAt")
	}
	if err == nil {
		f.Stamping, err = getS(out.Item, "stamping")
	}
	if err == nil {
		f.ServiceList, err = getS(out.Item, "serviceList")
	}
	if err != nil {
		return Formats{}, false, fmt.Errorf("get formats of %s from %s: %w", tenant, s.table, err)
	}
	return f, true, nil
}

// PutFormats implements FormatStore.
func (s *DynamoStore) PutFormats(ctx context.Context, f Formats) error {
	if err := checkNames(f.Tenant, "", false); err != nil {
		return fmt.Errorf("put formats: %w", err)
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = s.now().UTC()
	}
	item := key(f.Tenant, skFormats)
	item["tenant"] = str(f.Tenant)
	item["binaryRefusedAt"] = str(formatTime(f.BinaryRefusedAt))
	item["stamping"] = str(f.Stamping)
	item["fromTo"] = str(f.FromTo)
	item["fromToAt"] = str(formatTime(f.FromToAt))
	item["serviceList"] = str(f.ServiceList)
	item["serviceListAt"] = str(formatTime(f.ServiceListAt))
	item["updatedAt"] = str(formatTime(f.UpdatedAt))
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put formats of %s to %s: %w", f.Tenant, s.table, err)
	}
	return nil
}
