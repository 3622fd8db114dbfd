package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// standInGlueTable creates in moto the archive's Glue database and table from the template's
// AWS::Glue::Table properties, every value resolved in the account: the table collect's tick
// keeps in step with the connectors (CALM_ARCHIVE_TABLE, docs/analytics.md).
func standInGlueTable(t *testing.T, moto *awstest.MotoServer, a *account, props map[string]any) {
	t.Helper()
	ctx := context.Background()
	db, err := a.resolve(props["DatabaseName"])
	if err != nil {
		t.Fatalf("Glue table's DatabaseName: %v", err)
	}
	resolved, err := resolveTree(a, props["TableInput"])
	if err != nil {
		t.Fatalf("Glue table's TableInput: %v", err)
	}
	raw, _ := json.Marshal(resolved) // resolved values are strings, maps, lists and literals
	var in gluetypes.TableInput
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatalf("Glue table's TableInput %s: %v", raw, err)
	}
	api := glue.NewFromConfig(moto.AWSConfig(ctx))
	_, err = api.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(db)}})
	var exists *gluetypes.AlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("Glue database %s: %v", db, err)
	}
	if _, err := api.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(db), TableInput: &in}); err != nil {
		t.Fatalf("Glue table %s.%s: %v", db, aws.ToString(in.Name), err)
	}
}

// resolveTree resolves every intrinsic function in a template value: a map with one key
// starting "Fn::" or "Ref" is resolved to a string, other maps and lists element by element.
func resolveTree(a *account, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				if k == "Ref" || len(k) > 4 && k[:4] == "Fn::" {
					return a.resolve(x)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			r, err := resolveTree(a, e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := resolveTree(a, e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}
