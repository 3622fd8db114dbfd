package projection

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/calm-collector/calm-collector/analytics"
	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/awstest/athenatest"
)

// glueCalls makes a Glue client record the IAM action of every call it makes.
type glueCalls struct {
	mu      sync.Mutex
	actions []string
}

func (c *glueCalls) option(o *glue.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("recordAction",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				if a := "glue:" + middleware.GetOperationName(ctx); !slices.Contains(c.actions, a) {
					c.actions = append(c.actions, a)
				}
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

func TestParseArchiveTable(t *testing.T) {
	if got, err := ParseArchiveTable("calmcollector.records"); err != nil || got != (ArchiveTable{"calmcollector", "records"}) {
		t.Errorf("ParseArchiveTable = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "records", ".records", "db.", "a.b.c"} {
		if _, err := ParseArchiveTable(bad); err == nil || !strings.Contains(err.Error(), "DATABASE.TABLE") {
			t.Errorf("ParseArchiveTable(%q) = %v, want an error naming the form", bad, err)
		}
	}
}

// Tenants on moto: missing tenants are added to the enum in sorted order after the
// deployed ones, nothing else of the table changes, nothing is written when nothing is missing,
// values are never removed, and the calls made are exactly analytics.ProjectionActions (which
// the stack grants, infra/cdk's TestCollectPermissions).
func TestTenantsAgainstMoto(t *testing.T) {
	ctx := context.Background()
	m := awstest.Moto(t)
	cfg := m.AWSConfig(ctx)
	setup := glue.NewFromConfig(cfg)
	calls := &glueCalls{}
	api := glue.NewFromConfig(cfg, calls.option)
	table := ArchiveTable{Database: "projection_test", Table: analytics.TableName}
	athenatest.CreateArchiveTable(t, setup, table.Database, "archive", "records", []string{"prod", "test"})
	before := getTable(t, setup, table)

	added, err := Tenants(ctx, api, table, []string{"test", "zeta", "prod", "alpha", "zeta"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha", "zeta"}; !slices.Equal(added, want) {
		t.Errorf("added %v, want %v", added, want)
	}
	after := getTable(t, setup, table)
	if got, want := after.Parameters[analytics.ParamTenantValues], "prod,test,alpha,zeta"; got != want {
		t.Errorf("%s = %q, want %q", analytics.ParamTenantValues, got, want)
	}
	// Everything else as it was: the other parameters, columns, partition keys, storage, type.
	wantParams := maps.Clone(before.Parameters)
	wantParams[analytics.ParamTenantValues] = "prod,test,alpha,zeta"
	if !maps.Equal(wantParams, after.Parameters) {
		t.Errorf("table parameters = %v\nwant %v", after.Parameters, wantParams)
	}
	if b, a := tableJSON(t, before), tableJSON(t, after); b != a {
		t.Errorf("the update changed more than the tenant values:\nbefore %s\nafter  %s", b, a)
	}
	versions := tableVersions(t, setup, table)

	// Nothing missing (a removed connector included): no write, and nothing is removed.
	added, err = Tenants(ctx, api, table, []string{"zeta", "prod"})
	if err != nil || len(added) != 0 {
		t.Errorf("second call added %v, %v; want nothing", added, err)
	}
	if got := getTable(t, setup, table).Parameters[analytics.ParamTenantValues]; got != "prod,test,alpha,zeta" {
		t.Errorf("after a call with fewer connectors, the values are %q; a removed tenant's data must stay queryable", got)
	}
	if n := tableVersions(t, setup, table); n != versions {
		t.Errorf("a call with nothing to add wrote the table (%d versions, were %d)", n, versions)
	}
	slices.Sort(calls.actions)
	if !slices.Equal(calls.actions, analytics.ProjectionActions) {
		t.Errorf("Tenants called %v; analytics.ProjectionActions (what the stack grants) = %v", calls.actions, analytics.ProjectionActions)
	}

	// A table whose tenant projection is no longer an enum is left alone.
	in := tableInput(getTable(t, setup, table))
	in.Parameters[analytics.ParamTenantType] = "injected"
	if _, err := setup.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String(table.Database), TableInput: in}); err != nil {
		t.Fatal(err)
	}
	if added, err := Tenants(ctx, api, table, []string{"new"}); err != nil || len(added) != 0 {
		t.Errorf("with an injected tenant projection: added %v, %v; want nothing", added, err)
	}

	// A missing table is an error that names it.
	_, err = Tenants(ctx, api, ArchiveTable{Database: "projection_test", Table: "nope"}, []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "projection_test.nope") {
		t.Errorf("missing table: err = %v, want one naming projection_test.nope", err)
	}
}

func getTable(t *testing.T, api *glue.Client, table ArchiveTable) *gluetypes.Table {
	t.Helper()
	out, err := api.GetTable(context.Background(), &glue.GetTableInput{DatabaseName: aws.String(table.Database), Name: aws.String(table.Table)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Table
}

func tableVersions(t *testing.T, api *glue.Client, table ArchiveTable) int {
	t.Helper()
	out, err := api.GetTableVersions(context.Background(), &glue.GetTableVersionsInput{DatabaseName: aws.String(table.Database), TableName: aws.String(table.Table)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.TableVersions)
}

// tableJSON is the table without its parameters and the fields Glue sets on each write.
func tableJSON(t *testing.T, table *gluetypes.Table) string {
	t.Helper()
	c := *table
	c.Parameters, c.UpdateTime, c.VersionId, c.CreateTime = nil, nil, nil, nil
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
