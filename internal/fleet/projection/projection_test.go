package projection

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/calm-collector/calm-collector/analytics"
	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/awstest/athenatest"
)

// glueCalls records the IAM action of every Glue call that goes through it.
type glueCalls struct {
	mu      sync.Mutex
	actions []string
}

func (c *glueCalls) Do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if a := "glue:" + strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AWSGlue."); !slices.Contains(c.actions, a) {
		c.actions = append(c.actions, a)
	}
	c.mu.Unlock()
	return http.DefaultClient.Do(req)
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
	api := &Glue{AWS: cfg.Copy()}
	api.AWS.HTTPClient = calls
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
	cur := getTable(t, setup, table)
	in := &gluetypes.TableInput{Name: cur.Name, Parameters: maps.Clone(cur.Parameters), PartitionKeys: cur.PartitionKeys,
		StorageDescriptor: cur.StorageDescriptor, TableType: cur.TableType}
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

// A table changed between Tenants' read and its write (a deploy) fails the update, with an
// error that says so; the version read is what the update names. Glue's error answers of the
// JSON protocol are read as Glue sends them, and every call is signed for glue.
func TestTenantsNameAConcurrentChange(t *testing.T) {
	var versionSent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "/eu-west-1/glue/aws4_request") {
			t.Errorf("Authorization %q is not signed for glue in eu-west-1", auth)
		}
		var in struct{ VersionId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		switch r.Header.Get("X-Amz-Target") {
		case "AWSGlue.GetTable":
			w.Write([]byte(`{"Table":{"Name":"records","VersionId":"7","Parameters":{"projection.tenant.type":"enum","projection.tenant.values":"a"}}}`))
		case "AWSGlue.UpdateTable":
			versionSent = in.VersionId
			w.Header().Set("X-Amzn-ErrorType", "ConcurrentModificationException:http://internal.amazon.com/")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"__type":"com.amazonaws.glue#ConcurrentModificationException","message":"Update table failed due to concurrent modifications."}`))
		default:
			t.Errorf("unexpected call %q", r.Header.Get("X-Amz-Target"))
		}
	}))
	t.Cleanup(srv.Close)
	api := &Glue{AWS: aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		})}}
	_, err := Tenants(context.Background(), api, ArchiveTable{"db", "records"}, []string{"b"})
	var ge *GlueError
	if !errors.As(err, &ge) || ge.Type != "ConcurrentModificationException" || !strings.Contains(err.Error(), "changed meanwhile") {
		t.Errorf("err = %v, want a ConcurrentModificationException named as a change meanwhile", err)
	}
	if versionSent != "7" {
		t.Errorf("UpdateTable named version %q, want the version read (7)", versionSent)
	}
}
