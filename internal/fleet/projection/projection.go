// Package projection keeps the Athena archive table's tenant partition projection in step with
// the connectors (Glue GetTable/UpdateTable, as two signed requests: glue.go).
package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/calm-collector/calm-collector/analytics"
)

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
func Tenants(ctx context.Context, api *Glue, t ArchiveTable, tenants []string) ([]string, error) {
	table, err := api.getTable(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("read the archive table %s: %w", t, err)
	}
	var params map[string]string
	if err := json.Unmarshal(table["Parameters"], &params); table["Parameters"] != nil && err != nil {
		return nil, fmt.Errorf("read the archive table %s: parameters: %w", t, err)
	}
	if params[analytics.ParamTenantType] != "enum" {
		return nil, nil
	}
	values := analytics.SplitValues(params[analytics.ParamTenantValues])
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
	params[analytics.ParamTenantValues] = strings.Join(append(values, added...), ",")
	in := tableInput(table)
	in["Parameters"], _ = json.Marshal(params) // a map of strings always encodes
	err = api.updateTable(ctx, t, stringField(table, "CatalogId"), stringField(table, "VersionId"), in)
	var ge *GlueError
	if errors.As(err, &ge) && ge.Type == "ConcurrentModificationException" {
		return nil, fmt.Errorf("add tenants %s to the archive table %s: the table changed meanwhile (a deploy?); the next tick adds them: %w",
			strings.Join(added, ","), t, err)
	}
	if err != nil {
		return nil, fmt.Errorf("add tenants %s to the archive table %s (the collect role needs glue:UpdateTable on it): %w",
			strings.Join(added, ","), t, err)
	}
	return added, nil
}

// tableInputFields are the fields of a Glue Table that are also fields of the TableInput that
// writes it back. The read-only ones (times, version, creator, database, catalog) are not; the
// table over the archive is no view, so it has no view definition to carry over.
var tableInputFields = []string{"Name", "Description", "FederatedTable", "LastAccessTime", "LastAnalyzedTime", "Owner",
	"Parameters", "PartitionKeys", "Retention", "StorageDescriptor", "TableType", "TargetTable", "ViewExpandedText", "ViewOriginalText"}

// tableInput is the table as read, as the input that writes it back unchanged: each field's
// JSON as Glue sent it.
func tableInput(table map[string]json.RawMessage) map[string]json.RawMessage {
	in := make(map[string]json.RawMessage, len(tableInputFields))
	for _, f := range tableInputFields {
		if v, ok := table[f]; ok {
			in[f] = v
		}
	}
	return in
}

// stringField is the table's field f as a string ("" when absent or not a string).
func stringField(table map[string]json.RawMessage, f string) string {
	var s string
	_ = json.Unmarshal(table[f], &s) // absent or not a string: ""
	return s
}
