package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// account is where a synthesized template is resolved: the pseudo parameters, and the physical
// values CloudFormation would give the template's resources (docs/deploy.md, "The stack–function
// contract"). Physical values are plausible and full length, in CloudFormation's own formats;
// refs and attrs replace them for resources a test stood in for (moto's ARNs and queue URLs).
type account struct {
	partition, region, id, stack string
	resources                    map[string]map[string]any // the template's, by logical id
	refs                         map[string]string         // logical id → Ref value, set by a stand-in
	attrs                        map[string]string         // "LogicalId.Attr" → value, set by a stand-in
}

// newAccount resolves the template tpl (as synthesized) of stack in an account.
func newAccount(partition, region, id, stack string, tpl map[string]any) *account {
	res := map[string]map[string]any{}
	for lid, r := range tpl["Resources"].(map[string]any) {
		res[lid] = r.(map[string]any)
	}
	return &account{partition: partition, region: region, id: id, stack: stack, resources: res,
		refs: map[string]string{}, attrs: map[string]string{}}
}

// suffix is the random-looking part CloudFormation appends to a generated name, fixed per seed so
// that a test's values do not change between runs.
func suffix(seed string, n int, alphabet string) string {
	sum := sha256.Sum256([]byte(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// nameProps are the properties that give a resource its name, by type.
var nameProps = map[string]string{
	"AWS::SQS::Queue":             "QueueName",
	"AWS::S3::Bucket":             "BucketName",
	"AWS::DynamoDB::Table":        "TableName",
	"AWS::SecretsManager::Secret": "Name",
	"AWS::Events::EventBus":       "Name",
	"AWS::SNS::Topic":             "TopicName",
	"AWS::Lambda::Function":       "FunctionName",
	"AWS::IAM::Role":              "RoleName",
	"AWS::Logs::LogGroup":         "LogGroupName",
	"AWS::CloudWatch::Dashboard":  "DashboardName",
	"AWS::Athena::WorkGroup":      "Name",
	"AWS::Glue::Database":         "DatabaseInput.Name",
	"AWS::Scheduler::Schedule":    "Name",
	"AWS::SSM::Parameter":         "Name",
	"AWS::Events::Rule":           "Name",
}

// name is the resource's physical name: the one its template sets, else the one CloudFormation
// generates (STACK-LOGICALID-SUFFIX, lower case for buckets).
func (a *account) name(lid string) (string, error) {
	r, ok := a.resources[lid]
	if !ok {
		return "", fmt.Errorf("no resource %q in the template", lid)
	}
	typ, _ := r["Type"].(string)
	props, _ := r["Properties"].(map[string]any)
	if p := nameProps[typ]; p != "" && props != nil {
		var v any = props
		for _, k := range strings.Split(p, ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if v != nil {
			return a.resolve(v)
		}
	}
	if typ == "AWS::S3::Bucket" {
		return strings.ToLower(a.stack + "-" + lid + "-" + suffix(lid, 12, lowerAlnum)), nil
	}
	if typ == "AWS::SecretsManager::Secret" {
		return lid + "-" + suffix(lid, 12, mixedAlnum), nil
	}
	return a.stack + "-" + lid + "-" + suffix(lid, 13, upperAlnum), nil
}

// arn builds an ARN in the account.
func (a *account) arn(service, resource string) string {
	return "arn:" + a.partition + ":" + service + ":" + a.region + ":" + a.id + ":" + resource
}

// ref is the value of {"Ref": lid}: a pseudo parameter or what CloudFormation documents as the
// resource type's Ref.
func (a *account) ref(lid string) (string, error) {
	switch lid {
	case "AWS::Partition":
		return a.partition, nil
	case "AWS::Region":
		return a.region, nil
	case "AWS::AccountId":
		return a.id, nil
	case "AWS::StackName":
		return a.stack, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackId":
		return a.arn("cloudformation", "stack/"+a.stack+"/"+suffix(a.stack, 8, lowerAlnum)+"-0000-11ef-0000-"+suffix(a.stack, 12, lowerAlnum)), nil
	}
	if v, ok := a.refs[lid]; ok {
		return v, nil
	}
	n, err := a.name(lid)
	if err != nil {
		return "", err
	}
	switch typ := a.resources[lid]["Type"]; typ {
	case "AWS::SQS::Queue":
		return "https://sqs." + a.region + ".amazonaws.com/" + a.id + "/" + n, nil
	case "AWS::SecretsManager::Secret":
		return a.arn("secretsmanager", "secret:"+n+"-"+suffix(lid+"arn", 6, mixedAlnum)), nil
	case "AWS::SNS::Topic":
		return a.arn("sns", n), nil
	case "AWS::KMS::Key":
		s := suffix(lid, 32, "0123456789abcdef")
		return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:], nil
	default:
		return n, nil
	}
}

// getAtt is the value of {"Fn::GetAtt": [lid, attr]} for the attributes the stack's environment
// can refer to; any other fails, naming itself, so that a new reference is added here on purpose.
func (a *account) getAtt(lid, attr string) (string, error) {
	if v, ok := a.attrs[lid+"."+attr]; ok {
		return v, nil
	}
	n, err := a.name(lid)
	if err != nil {
		return "", err
	}
	typ := a.resources[lid]["Type"]
	switch typ.(string) + "." + attr {
	case "AWS::SQS::Queue.Arn":
		return a.arn("sqs", n), nil
	case "AWS::SQS::Queue.QueueName":
		return n, nil
	case "AWS::SQS::Queue.QueueUrl":
		return a.ref(lid)
	case "AWS::S3::Bucket.Arn":
		return "arn:" + a.partition + ":s3:::" + n, nil
	case "AWS::S3::Bucket.DomainName", "AWS::S3::Bucket.RegionalDomainName":
		return n + ".s3." + a.region + ".amazonaws.com", nil
	case "AWS::DynamoDB::Table.Arn":
		return a.arn("dynamodb", "table/"+n), nil
	case "AWS::Events::EventBus.Arn":
		return a.arn("events", "event-bus/"+n), nil
	case "AWS::Events::EventBus.Name":
		return n, nil
	case "AWS::Lambda::Function.Arn":
		return a.arn("lambda", "function:"+n), nil
	case "AWS::IAM::Role.Arn":
		return "arn:" + a.partition + ":iam::" + a.id + ":role/" + n, nil
	case "AWS::SNS::Topic.TopicArn":
		return a.ref(lid)
	case "AWS::SecretsManager::Secret.Id":
		return a.ref(lid)
	case "AWS::KMS::Key.Arn":
		k, err := a.ref(lid)
		return a.arn("kms", "key/"+k), err
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s (%s): no plausible value known; add one to account.getAtt", lid, attr, typ)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// resolve turns a template value (a string or an intrinsic function) into the string
// CloudFormation would pass on.
func (a *account) resolve(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64, bool:
		return fmt.Sprint(v), nil
	case map[string]any:
		if len(v) != 1 {
			return "", fmt.Errorf("%v is not one intrinsic function", v)
		}
		fn := slices.Collect(maps.Keys(v))[0]
		arg := v[fn]
		switch fn {
		case "Ref":
			return a.ref(arg.(string))
		case "Fn::GetAtt":
			parts, _ := arg.([]any)
			if len(parts) != 2 {
				return "", fmt.Errorf("Fn::GetAtt %v: want [logicalId, attribute]", arg)
			}
			return a.getAtt(parts[0].(string), parts[1].(string))
		case "Fn::Join":
			parts, _ := arg.([]any)
			if len(parts) != 2 {
				return "", fmt.Errorf("Fn::Join %v: want [separator, list]", arg)
			}
			var out []string
			for _, p := range parts[1].([]any) {
				s, err := a.resolve(p)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, parts[0].(string)), nil
		case "Fn::Sub":
			return a.sub(arg)
		case "Fn::Select":
			parts, _ := arg.([]any)
			list, ok := parts[1].([]any)
			idx, isNum := parts[0].(float64)
			if len(parts) != 2 || !ok || !isNum || int(idx) >= len(list) {
				return "", fmt.Errorf("Fn::Select %v: want [index, literal list]", arg)
			}
			return a.resolve(list[int(idx)])
		}
		return "", fmt.Errorf("intrinsic %s: not resolved by the contract test; add it to account.resolve", fn)
	}
	return "", fmt.Errorf("%v (%T) is not a template string", v, v)
}

// sub resolves Fn::Sub, with or without its own variables.
func (a *account) sub(arg any) (string, error) {
	text, vars := "", map[string]any{}
	switch arg := arg.(type) {
	case string:
		text = arg
	case []any:
		text, _ = arg[0].(string)
		if len(arg) > 1 {
			vars, _ = arg[1].(map[string]any)
		}
	}
	var err error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		var s string
		var e error
		switch lid, attr, isAtt := strings.Cut(name, "."); {
		case vars[name] != nil:
			s, e = a.resolve(vars[name])
		case isAtt:
			s, e = a.getAtt(lid, attr)
		default:
			s, e = a.ref(name)
		}
		if e != nil && err == nil {
			err = e
		}
		return s
	})
	return out, err
}

// functionEnv is the environment of the function with logical id lid, resolved: exactly the
// variables of its template, each value resolved.
func (a *account) functionEnv(t *testing.T, lid string) map[string]string {
	t.Helper()
	r, ok := a.resources[lid]
	if !ok || r["Type"] != "AWS::Lambda::Function" {
		t.Fatalf("no Lambda function %s in the template", lid)
	}
	props, _ := r["Properties"].(map[string]any)
	envProp, _ := props["Environment"].(map[string]any)
	vars, _ := envProp["Variables"].(map[string]any)
	env := map[string]string{}
	for k, v := range vars {
		s, err := a.resolve(v)
		if err != nil {
			t.Fatalf("%s: %s: %v", lid, k, err)
		}
		env[k] = s
	}
	return env
}

// envBytes is the size Lambda counts against its 4 KB: the variables as the JSON object the
// API takes, {"KEY":"value",...} (a little more than the keys and values alone).
func envBytes(env map[string]string) int {
	b, _ := json.Marshal(env)
	return len(b)
}
