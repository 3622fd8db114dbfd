// Package athenatest creates the archive's Athena (Glue) table in moto as the stack declares it.
// It is apart from awstest because the analytics package's own tests use awstest.
package athenatest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/calm-collector/calm-collector/analytics"
)

// CreateArchiveTable creates, with api, the Glue database db and in it the archive table as the
// stack declares it (infra/cdk/analytics.go, from the analytics package) over s3://bucket/prefix/,
// its tenant projection listing tenants.
func CreateArchiveTable(t testing.TB, api *glue.Client, db, bucket, prefix string, tenants []string) {
	t.Helper()
	ctx := context.Background()
	if _, err := api.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(db)}}); err != nil {
		t.Fatalf("create the Glue database %s: %v", db, err)
	}
	columns := func(cols []analytics.Column) []gluetypes.Column {
		out := make([]gluetypes.Column, len(cols))
		for i, c := range cols {
			out[i] = gluetypes.Column{Name: aws.String(c.Name), Type: aws.String(c.Type), Comment: aws.String(c.Comment)}
		}
		return out
	}
	_, err := api.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(db), TableInput: &gluetypes.TableInput{
		Name:          aws.String(analytics.TableName),
		Description:   aws.String("calm-collector records"),
		TableType:     aws.String("EXTERNAL_TABLE"),
		Parameters:    analytics.TableParameters(bucket, prefix, tenants),
		PartitionKeys: columns(analytics.PartitionKeys),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Columns:      columns(analytics.Columns),
			Location:     aws.String(analytics.Location(bucket, prefix)),
			InputFormat:  aws.String(analytics.InputFormat),
			OutputFormat: aws.String(analytics.OutputFormat),
			Compressed:   true,
			SerdeInfo:    &gluetypes.SerDeInfo{SerializationLibrary: aws.String(analytics.SerDe), Parameters: analytics.SerDeParameters},
		},
	}})
	if err != nil {
		t.Fatalf("create the archive table %s.%s: %v", db, analytics.TableName, err)
	}
}
