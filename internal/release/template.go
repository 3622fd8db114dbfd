package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The parameters a packaged template takes for its assets.
const (
	BucketParam = "AssetsBucket"
	PrefixParam = "AssetsPrefix"
)

// manifest is the part of a CDK asset manifest (<stack>.assets.json) that packaging reads.
type manifest struct {
	Files map[string]struct {
		Source struct {
			Path      string `json:"path"`
			Packaging string `json:"packaging"`
		} `json:"source"`
		Destinations map[string]struct {
			BucketName string `json:"bucketName"`
			ObjectKey  string `json:"objectKey"`
		} `json:"destinations"`
	} `json:"files"`
	DockerImages map[string]any `json:"dockerImages"`
}

// Asset is one file a packaged template needs under s3://AssetsBucket/AssetsPrefix.
type Asset struct {
	Key    string // the object key after the prefix, e.g. 1f3e….zip
	Source string // the directory (zipped) or file (copied) in the cloud assembly
	Zip    bool
}

// Package reads the stack's template and asset manifest from the cloud assembly dir and writes
// into out the packaged template (<stack>.template.json) and the assets under out/assets/.
// It returns the assets written.
func Package(dir, stack, out string) ([]Asset, error) {
	tpl, assets, err := Rewrite(dir, stack)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(out, "assets"), 0o755); err != nil { //nolint:gosec // G301: release files are public
		return nil, err
	}
	b, err := json.MarshalIndent(tpl, "", " ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, stack+".template.json"), append(b, '\n'), 0o644); err != nil { //nolint:gosec // G306: a public release file
		return nil, err
	}
	for _, a := range assets {
		dst := filepath.Join(out, "assets", a.Key)
		if a.Zip {
			err = ZipDir(dst, a.Source)
		} else {
			err = copyFile(dst, a.Source)
		}
		if err != nil {
			return nil, fmt.Errorf("asset %s: %w", a.Key, err)
		}
	}
	return assets, nil
}

// Rewrite returns the stack's template with every asset reference made a parameter reference,
// and the assets it refers to. A template that still names the CDK bootstrap afterwards (an asset
// kind this does not know) is an error: it would not deploy without the bootstrap.
func Rewrite(dir, stack string) (map[string]any, []Asset, error) {
	var tpl map[string]any
	if err := readJSON(filepath.Join(dir, stack+".template.json"), &tpl); err != nil {
		return nil, nil, err
	}
	var m manifest
	if err := readJSON(filepath.Join(dir, stack+".assets.json"), &m); err != nil {
		return nil, nil, err
	}
	if len(m.DockerImages) > 0 {
		return nil, nil, errors.New("the stack has container image assets, which a packaged template cannot carry")
	}
	buckets, keys := map[string]bool{}, map[string]Asset{}
	for _, f := range m.Files {
		if f.Source.Path == stack+".template.json" {
			continue // the template itself, which the CDK CLI uploads; deploy takes it from a file
		}
		for _, d := range f.Destinations {
			buckets[d.BucketName] = true
			keys[d.ObjectKey] = Asset{Key: d.ObjectKey, Source: filepath.Join(dir, f.Source.Path), Zip: f.Source.Packaging == "zip"}
		}
	}
	used := map[string]bool{}
	tpl = rewrite(tpl, buckets, keys, used).(map[string]any)
	removeBootstrapCheck(tpl)
	params, _ := tpl["Parameters"].(map[string]any)
	if params == nil {
		params = map[string]any{}
		tpl["Parameters"] = params
	}
	params[BucketParam] = map[string]any{"Type": "String", "Description": "S3 bucket holding the release's assets/ files (same region as the stack)"}
	params[PrefixParam] = map[string]any{"Type": "String", "Default": "", "Description": "key prefix of the assets in AssetsBucket, ending in / (e.g. calm-collector/v1.0.0/)"}
	b, _ := json.Marshal(tpl)
	for bucket := range buckets {
		if strings.Contains(string(b), bucket) {
			return nil, nil, fmt.Errorf("the template still refers to the CDK asset bucket %s in a way this cannot rewrite", bucket)
		}
	}
	var assets []Asset
	for key := range used {
		assets = append(assets, keys[key])
	}
	slices.SortFunc(assets, func(a, b Asset) int { return strings.Compare(a.Key, b.Key) })
	return tpl, assets, nil
}

// rewrite walks v: a {"Fn::Sub": bucket} becomes {"Ref": AssetsBucket}, an asset key string
// becomes {"Fn::Sub": "${AssetsPrefix}key"} (noted in used).
func rewrite(v any, buckets map[string]bool, keys map[string]Asset, used map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		if sub, ok := x["Fn::Sub"].(string); ok && len(x) == 1 && buckets[sub] {
			return map[string]any{"Ref": BucketParam}
		}
		for k, e := range x {
			x[k] = rewrite(e, buckets, keys, used)
		}
	case []any:
		for i, e := range x {
			x[i] = rewrite(e, buckets, keys, used)
		}
	case string:
		if _, ok := keys[x]; ok {
			used[x] = true
			return map[string]any{"Fn::Sub": "${" + PrefixParam + "}" + x}
		}
	}
	return v
}

// removeBootstrapCheck drops the BootstrapVersion parameter and the rule that checks it: a
// packaged template needs no CDK bootstrap.
func removeBootstrapCheck(tpl map[string]any) {
	if p, ok := tpl["Parameters"].(map[string]any); ok {
		delete(p, "BootstrapVersion")
	}
	if r, ok := tpl["Rules"].(map[string]any); ok {
		delete(r, "CheckBootstrapVersion")
		if len(r) == 0 {
			delete(tpl, "Rules")
		}
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path) //nolint:gosec // G304: a file of the cloud assembly the caller names
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
