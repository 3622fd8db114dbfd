// Package projection keeps the Athena archive table's tenant partition projection in step with
// the connectors (Glue GetTable/UpdateTable). It is a package of its own so that only the
// collect function links the Glue client: its generated schemas cost about 15 ms and 2 MB of
// heap at every process start (BENCHMARKS.md), which calmctl does not pay.
package projection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/calm-collector/calm-collector/analytics"
)

// GlueAPI is the part of the Glue client Tenants uses: exactly analytics.ProjectionActions.
type GlueAPI interface {
	GetTable(context.Context, *glue.GetTableInput, ...func(*glue.Options)) (*glue.GetTableOutput, error)
	UpdateTable(context.Context, *glue.UpdateTableInput, ...func(*glue.Options)) (*glue.UpdateTableOutput, error)
}

// ArchiveTable names the Glue table over the archive, "DATABASE.TABLE" (CALM_ARCHIVE_TABLE).
type ArchiveTable struct {
	Database, Table string
}

// ParseArchiveTable reads "DATABASE.TABLE".
func ParseArchiveTable(s string) (ArchiveTable, error) {
	db, table, ok := strings.Cut(s, ".")
	if !ok || db == "" || table == "" || strings.Contains(table, ".") {
		return ArchiveTable{}, fmt.Errorf("%q is not DATABASE.TABLE, like calmcollector.records", s)
	}
	return ArchiveTable{Database: db, Table: table}, nil
}

// String returns "DATABASE.TABLE".
func (t ArchiveTable) String() string { return t.Database + "." + t.Table }

// Tenants makes every tenant of tenants a value of the table's tenant partition projection
// (docs/analytics.md, "Tenants added at run time"), so that a tenant added without a deploy is
// queryable in Athena. It changes the table only when a tenant is missing, and then only that
// parameter: every other property is written back as read, and the table's version is passed so
// that a concurrent change (a deploy) fails the update instead of being overwritten; the next tick
// tries again. Values are only ever added: a removed connector's archived data stays queryable.
// A table whose tenant projection is not an enum (changed by hand) is left alone. It returns the
// tenants it added.
func Tenants(ctx context.Context, api GlueAPI, t ArchiveTable, tenants []string) ([]string, error) {
	out, err := api.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(t.Database), Name: aws.String(t.Table)})
	if err != nil {
		return nil, fmt.Errorf("read the archive table %s: %w", t, err)
	}
	table := out.Table
	if table == nil {
		return nil, fmt.Errorf("read the archive table %s: Glue returned no table", t)
	}
	if table.Parameters[analytics.ParamTenantType] != "enum" {
		return nil, nil
	}
	values := analytics.SplitValues(table.Parameters[analytics.ParamTenantValues])
	var added []string
	for _, name := range tenants {
		if name != "" && !slices.Contains(values, name) && !slices.Contains(added, name) {
			added = append(added, name)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	slices.Sort(added)
	in := tableInput(table)
	in.Parameters[analytics.ParamTenantValues] = strings.Join(append(values, added...), ",")
	_, err = api.UpdateTable(ctx, &glue.UpdateTableInput{
		CatalogId: table.CatalogId, DatabaseName: aws.String(t.Database), TableInput: in, VersionId: table.VersionId,
	})
	var conflict *gluetypes.ConcurrentModificationException
	if errors.As(err, &conflict) {
		return nil, fmt.Errorf("add tenants %s to the archive table %s: the table changed meanwhile (a deploy?); the next tick adds them: %w",
			strings.Join(added, ","), t, err)
	}
	if err != nil {
		return nil, fmt.Errorf("add tenants %s to the archive table %s (the collect role needs glue:UpdateTable on it): %w",
			strings.Join(added, ","), t, err)
	}
	return added, nil
}

// tableInput is the table as read, as the input that writes it back unchanged (its parameters a
// copy). The read-only fields (times, version, creator) are not part of an input; the table over
// the archive is no view, so it has no view definition to carry over.
func tableInput(t *gluetypes.Table) *gluetypes.TableInput {
	params := make(map[string]string, len(t.Parameters)+1)
	for k, v := range t.Parameters {
		params[k] = v
	}
	return &gluetypes.TableInput{
		Name:              t.Name,
		Description:       t.Description,
		FederatedTable:    t.FederatedTable,
		LastAccessTime:    t.LastAccessTime,
		LastAnalyzedTime:  t.LastAnalyzedTime,
		Owner:             t.Owner,
		Parameters:        params,
		PartitionKeys:     t.PartitionKeys,
		Retention:         t.Retention,
		StorageDescriptor: t.StorageDescriptor,
		TableType:         t.TableType,
		TargetTable:       t.TargetTable,
		ViewExpandedText:  t.ViewExpandedText,
		ViewOriginalText:  t.ViewOriginalText,
	}
}
