package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/calm-collector/calm-collector/analytics"
)

// analyticsAlone synthesizes the analytics constructs in a stack of their own (with a bucket and a
// log group standing in for the collector's), cdk-nag applied.
func analyticsAlone(t *testing.T, archive bool) (*synthesized, *Analytics) {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(tempDir(t))})
	stack := awscdk.NewStack(app, jsii.String("AnalyticsAlone"), nil)
	props := AnalyticsProps{Name: "CalmTest", Prefix: "records", Tenants: []string{"prod", "test"},
		CollectLogs: awslogs.LogGroup_FromLogGroupName(stack, jsii.String("Logs"), jsii.String("/aws/lambda/collect"))}
	if archive {
		props.Archive = awss3.Bucket_FromBucketName(stack, jsii.String("Archive"), jsii.String("my-archive"))
	}
	a := NewAnalytics(stack, "Analytics", props)
	AddChecks(app)
	out := &synthesized{app: app, stack: &CollectorStack{Stack: stack}}
	check(t, "synthesize", func() {
		out.template = assertions.Template_FromStack(stack, nil)
		out.json = *out.template.ToJSON()
	})
	if out.json == nil {
		t.FailNow()
	}
	return out, a
}

func TestAnalyticsAthena(t *testing.T) {
	s, _ := analyticsAlone(t, true)
	nagClean(t, s)
	params := map[string]any{}
	for k, v := range analytics.TableParameters("my-archive", "records", []string{"prod", "test"}) {
		params[k] = v
	}
	var cols, parts []any
	for _, c := range analytics.Columns {
		cols = append(cols, map[string]any{"Name": c.Name, "Type": c.Type, "Comment": c.Comment})
	}
	for _, c := range analytics.PartitionKeys {
		parts = append(parts, map[string]any{"Name": c.Name, "Type": c.Type, "Comment": c.Comment})
	}
	check(t, "Glue table", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Glue::Table"), obj(map[string]any{
			"TableInput": map[string]any{
				"Name": "records", "TableType": "EXTERNAL_TABLE", "Parameters": params, "PartitionKeys": parts,
				"StorageDescriptor": assertions.Match_ObjectLike(&map[string]any{
					"Columns":   cols,
					"Location":  "s3://my-archive/records/",
					"SerdeInfo": map[string]any{"SerializationLibrary": analytics.SerDe, "Parameters": assertions.Match_ObjectLike(&map[string]any{"case.insensitive": "false"})},
				}),
			},
		}))
	})
	if got := params["storage.location.template"]; got != "s3://my-archive/records/tenant=${tenant}/monitor=${monitor}/dt=${dt}/hour=${hour}/" {
		t.Errorf("location template = %v", got)
	}
	check(t, "database", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Glue::Database"), obj(map[string]any{
			"DatabaseInput": assertions.Match_ObjectLike(&map[string]any{"Name": "calmtest"}),
		}))
	})
	check(t, "workgroup: results encrypted, settings enforced", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"), obj(map[string]any{
			"Name": "CalmTest",
			"WorkGroupConfiguration": assertions.Match_ObjectLike(&map[string]any{
				"EnforceWorkGroupConfiguration": true,
				"ResultConfiguration": assertions.Match_ObjectLike(&map[string]any{
					"EncryptionConfiguration": map[string]any{"EncryptionOption": "SSE_S3"},
				}),
			}),
		}))
	})
	check(t, "results expire", func() {
		s.template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), obj(map[string]any{
			"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"ExpirationInDays": athenaResultsDays, "Status": "Enabled"}),
			})},
		}))
	})
	named := s.resources("AWS::Athena::NamedQuery")
	if len(named) != len(analytics.Questions) {
		t.Errorf("%d named queries, want one per question (%d)", len(named), len(analytics.Questions))
	}
	for _, q := range analytics.Questions {
		check(t, "named query "+q.ID, func() {
			s.template.HasResourceProperties(jsii.String("AWS::Athena::NamedQuery"), obj(map[string]any{
				"Name": q.Title, "QueryString": q.Athena,
			}))
		})
		if !strings.Contains(q.Athena, "FROM "+analytics.TableName) || !strings.Contains(q.Athena, "dt >=") {
			t.Errorf("question %s: the Athena query should read %s and bound the dt partitions", q.ID, analytics.TableName)
		}
	}
}

func TestAnalyticsLogsInsightsAndDataDashboard(t *testing.T) {
	s, _ := analyticsAlone(t, false)
	nagClean(t, s)
	if n := len(s.resources("AWS::Glue::Table")) + len(s.resources("AWS::Athena::WorkGroup")); n != 0 {
		t.Errorf("without an archive there is no Athena, found %d resources", n)
	}
	for _, q := range analytics.Questions {
		check(t, "query definition "+q.ID, func() {
			s.template.HasResourceProperties(jsii.String("AWS::Logs::QueryDefinition"), obj(map[string]any{
				"Name": "CalmTest/" + q.Title, "QueryString": q.Insights, "LogGroupNames": []any{"/aws/lambda/collect"},
			}))
		})
	}
	var widgets []map[string]any
	for _, d := range s.resources("AWS::CloudWatch::Dashboard") {
		props := d["Properties"].(map[string]any)
		if props["DashboardName"] != "CalmTest-CloudALM" {
			continue
		}
		widgets = dashboardWidgets(t, props["DashboardBody"])
	}
	if len(widgets) != len(analytics.Panels) {
		t.Fatalf("the CalmTest-CloudALM dashboard has %d widgets, want one per panel (%d)", len(widgets), len(analytics.Panels))
	}
	for i, p := range analytics.Panels {
		// Only log widgets: no custom metric per service.
		if widgets[i]["type"] != "log" {
			t.Errorf("widget %d is of type %v, want log", i, widgets[i]["type"])
		}
		props := widgets[i]["properties"].(map[string]any)
		if want := "SOURCE '/aws/lambda/collect' | " + p.Insights; props["query"] != want || props["title"] != p.Title {
			t.Errorf("widget %d = %q %q\nwant %q %q", i, props["title"], props["query"], p.Title, want)
		}
	}
}

// dashboardWidgets decodes a dashboard body (a string or an Fn::Join around tokens such as the
// region, which become "TOKEN") and returns its widgets.
func dashboardWidgets(t *testing.T, body any) []map[string]any {
	t.Helper()
	var text string
	switch b := body.(type) {
	case string:
		text = b
	case map[string]any:
		parts := b["Fn::Join"].([]any)[1].([]any)
		for _, part := range parts {
			if s, ok := part.(string); ok {
				text += s
			} else {
				text += "TOKEN"
			}
		}
	}
	var d struct {
		Widgets []map[string]any `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	return d.Widgets
}

// The meeting point of the stack and the collect function for the tenant projection: collect is
// told the table the stack creates (CALM_ARCHIVE_TABLE = its database.table, read by
// functions/collect's config) and may call exactly analytics.ProjectionActions on it (the calls
// internal/fleet's moto test records); without an archive there is neither.
func TestCollectKeepsTheTenantProjection(t *testing.T) {
	s := defaults(t)
	db := s.resources("AWS::Glue::Database")
	if len(db) != 1 {
		t.Fatalf("%d Glue databases, want 1", len(db))
	}
	var dbName string
	for _, r := range db {
		dbName = r["Properties"].(map[string]any)["DatabaseInput"].(map[string]any)["Name"].(string)
	}
	check(t, "collect is told the table", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"CALM_ARCHIVE_TABLE": dbName + "." + analytics.TableName})},
		}))
	})
	var actions []any
	for _, a := range analytics.ProjectionActions {
		actions = append(actions, a)
	}
	check(t, "collect may call exactly the projection's actions on that table", func() {
		s.template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj(map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Action": actions, "Effect": "Allow", "Sid": "ArchiveTableTenants",
				"Resource": []any{glueArn("catalog"), glueArn("database/" + dbName), glueArn("table/" + dbName + "/" + analytics.TableName)},
			}})},
		}))
	})

	off := synth(t, map[string]any{keyArchive: false})
	if strings.Contains(mustJSON(t, off.json), "CALM_ARCHIVE_TABLE") || strings.Contains(mustJSON(t, off.json), "glue:") {
		t.Error("without an archive, collect is still told a table or granted Glue actions")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
