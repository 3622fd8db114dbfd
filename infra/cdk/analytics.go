package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/calm-collector/calm-collector/analytics"
)

// athenaResultsDays is how long Athena query results are kept.
const athenaResultsDays = 7

// AnalyticsProps are what the analytics constructs need from the stack.
type AnalyticsProps struct {
	Name        string        // the stack name: names the database, workgroup, queries and dashboard
	Archive     awss3.IBucket // nil: no archive, so no Athena
	Prefix      string        // the archive sink's prefix
	Tenants     []string      // the connectors' names at deploy time (the first tenant partition values)
	CollectLogs awslogs.ILogGroup
	// Collect keeps the table's tenant projection in step with the connectors added at run time
	// (CALM_ARCHIVE_TABLE); nil: nobody does (a stack of the tests).
	Collect awslambda.Function
}

// Analytics is where the collected data is looked at (docs/analytics.md): Athena over the archive
// and Logs Insights over the collect function's logs, both from the analytics package.
type Analytics struct {
	Database     awsglue.CfnDatabase // nil without an archive
	Table        awsglue.CfnTable
	Results      awss3.Bucket
	WorkGroup    awsathena.CfnWorkGroup
	NamedQueries []awsathena.CfnNamedQuery
	Queries      []awslogs.CfnQueryDefinition
	Dashboard    awscloudwatch.Dashboard
}

// NewAnalytics adds the Athena table, workgroup and named queries (when there is an archive), the
// Logs Insights query definitions and the "Cloud ALM" data dashboard.
func NewAnalytics(scope constructs.Construct, id string, p AnalyticsProps) *Analytics {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Analytics{}
	if p.Archive != nil {
		a.addAthena(c, p)
	}
	logGroups := &[]*string{p.CollectLogs.LogGroupName()}
	for _, q := range analytics.Questions {
		a.Queries = append(a.Queries, awslogs.NewCfnQueryDefinition(c, jsii.String("Insights-"+q.ID), &awslogs.CfnQueryDefinitionProps{
			Name:          jsii.String(p.Name + "/" + q.Title),
			QueryString:   jsii.String(q.Insights),
			LogGroupNames: &[]any{p.CollectLogs.LogGroupName()},
		}))
	}
	a.Dashboard = awscloudwatch.NewDashboard(c, jsii.String("DataDashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(p.Name + "-CloudALM"),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
	})
	views := map[string]awscloudwatch.LogQueryVisualizationType{
		"table": awscloudwatch.LogQueryVisualizationType_TABLE,
		"line":  awscloudwatch.LogQueryVisualizationType_LINE,
		"bar":   awscloudwatch.LogQueryVisualizationType_BAR,
	}
	for chunk := range slices.Chunk(analytics.Panels, 2) {
		var row []awscloudwatch.IWidget
		for _, panel := range chunk {
			view, ok := views[panel.View]
			if !ok {
				panic(fmt.Sprintf("analytics panel %q: view %q is not table, line or bar", panel.Title, panel.View))
			}
			row = append(row, awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
				Title: jsii.String(panel.Title), LogGroupNames: logGroups, QueryString: jsii.String(panel.Insights),
				View: view, Width: jsii.Number(12), Height: jsii.Number(8),
			}))
		}
		a.Dashboard.AddWidgets(row...)
	}
	a.addOutputs(p)
	return a
}

// addOutputs names where to look, at the stack's level.
func (a *Analytics) addOutputs(p AnalyticsProps) {
	stack := awscdk.Stack_Of(a.Dashboard)
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("DataDashboardUrl", "CloudWatch dashboard of the Cloud ALM data (Logs Insights widgets)", jsii.String(fmt.Sprintf(
		"https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s",
		*awscdk.Aws_REGION(), *awscdk.Aws_REGION(), p.Name+"-CloudALM")))
	if a.WorkGroup != nil {
		out("AthenaWorkGroup", "Athena workgroup: its saved queries read the archive table", a.WorkGroup.Ref())
		out("AthenaTable", "Athena table over the archive (database.table)", jsii.String(*a.Database.Ref()+"."+analytics.TableName))
	}
}

// addAthena creates the Glue database and table over the archive, the results bucket and the
// workgroup (results encrypted, expiring), and one named query per question.
func (a *Analytics) addAthena(c constructs.Construct, p AnalyticsProps) {
	dbName := strings.ToLower(strings.ReplaceAll(p.Name, "-", "_"))
	a.Database = awsglue.NewCfnDatabase(c, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: awscdk.Aws_ACCOUNT_ID(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(dbName),
			Description: jsii.String("calm-collector: SAP Cloud ALM records archived in S3 (see docs/analytics.md)"),
		},
	})
	a.addTable(c, p)
	if p.Collect != nil {
		a.letCollectProjectTenants(p.Collect, dbName)
	}
	a.addResults(c)
	a.addWorkGroup(c, p)
}

// addTable creates the Glue table of the archive's records in the database (analytics.Columns,
// partitioned by analytics.PartitionKeys, projected as analytics.TableParameters says).
func (a *Analytics) addTable(c constructs.Construct, p AnalyticsProps) {
	columns := func(cols []analytics.Column) *[]any {
		var out []any
		for _, col := range cols {
			out = append(out, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(col.Name), Type: jsii.String(col.Type), Comment: jsii.String(col.Comment)})
		}
		return &out
	}
	bucket := *p.Archive.BucketName()
	params := map[string]*string{}
	for k, v := range analytics.TableParameters(bucket, p.Prefix, p.Tenants) {
		params[k] = jsii.String(v)
	}
	serde := map[string]*string{}
	for k, v := range analytics.SerDeParameters {
		serde[k] = jsii.String(v)
	}
	a.Table = awsglue.NewCfnTable(c, jsii.String("Table"), &awsglue.CfnTableProps{
		CatalogId:    awscdk.Aws_ACCOUNT_ID(),
		DatabaseName: a.Database.Ref(),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(analytics.TableName),
			Description:   jsii.String("calm-collector records: one row per data point, status event or log line"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    &params,
			PartitionKeys: columns(analytics.PartitionKeys),
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      columns(analytics.Columns),
				Location:     jsii.String(analytics.Location(bucket, p.Prefix)),
				InputFormat:  jsii.String(analytics.InputFormat),
				OutputFormat: jsii.String(analytics.OutputFormat),
				Compressed:   jsii.Bool(true),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String(analytics.SerDe),
					Parameters:           &serde,
				},
			},
		},
	})
}

// addResults creates the bucket of Athena's query results: encrypted, private, expiring after
// athenaResultsDays.
func (a *Analytics) addResults(c constructs.Construct) {
	a.Results = awss3.NewBucket(c, jsii.String("AthenaResults"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-results"),
			Enabled:                             jsii.Bool(true),
			Expiration:                          awscdk.Duration_Days(jsii.Number(athenaResultsDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		// Query results are disposable; the bucket is emptied by its lifecycle rule.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(a.Results, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Athena query results only, expiring after " + fmt.Sprint(athenaResultsDays) + " days; queries are recorded " +
			"in the workgroup's history and CloudTrail. An access-log bucket would cost more than the results."),
	}}, jsii.Bool(true))
}

// addWorkGroup creates the workgroup (engine 3, results in the results bucket, a scan cut-off)
// and one named query per question of the analytics package.
func (a *Analytics) addWorkGroup(c constructs.Construct, p AnalyticsProps) {
	a.WorkGroup = awsathena.NewCfnWorkGroup(c, jsii.String("WorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:                  jsii.String(p.Name),
		Description:           jsii.String("calm-collector: queries over the Cloud ALM archive (see docs/analytics.md)"),
		State:                 jsii.String("ENABLED"),
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			// 10 GB per query: years of one tenant's archive; a runaway query stops there.
			BytesScannedCutoffPerQuery: jsii.Number(10 << 30),
			EngineVersion:              &awsathena.CfnWorkGroup_EngineVersionProperty{SelectedEngineVersion: jsii.String("Athena engine version 3")},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation:          jsii.String("s3://" + *a.Results.BucketName() + "/results/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{EncryptionOption: jsii.String("SSE_S3")},
				ExpectedBucketOwner:     awscdk.Aws_ACCOUNT_ID(),
			},
		},
	})
	for _, q := range analytics.Questions {
		a.NamedQueries = append(a.NamedQueries, awsathena.NewCfnNamedQuery(c, jsii.String("Athena-"+q.ID), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String(q.Title),
			Description: jsii.String(q.Description),
			Database:    a.Database.Ref(),
			WorkGroup:   a.WorkGroup.Ref(),
			QueryString: jsii.String(q.Athena),
		}))
	}
}

// letCollectProjectTenants tells collect's schedule tick which table to keep in step with the
// connectors (docs/analytics.md, "Tenants added at run time") and grants exactly the calls that
// needs (analytics.ProjectionActions) on that table, its database and the account's catalog.
func (a *Analytics) letCollectProjectTenants(collect awslambda.Function, dbName string) {
	collect.AddEnvironment(jsii.String("CALM_ARCHIVE_TABLE"), jsii.String(dbName+"."+analytics.TableName), nil)
	// Built by name, as the Glue ARNs are: the database and table are named, not generated.
	arn := func(resource string) *string {
		return jsii.String(fmt.Sprintf("arn:%s:glue:%s:%s:%s", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), resource))
	}
	collect.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ArchiveTableTenants"),
		Actions:   jsii.Strings(analytics.ProjectionActions...),
		Resources: &[]*string{arn("catalog"), arn("database/" + dbName), arn("table/" + dbName + "/" + analytics.TableName)},
	}))
}
