// Package release turns a CDK cloud assembly into what a release ships: a CloudFormation
// template that deploys without the CDK (its asset references become the parameters
// AssetsBucket and AssetsPrefix, the bootstrap-version check goes) beside its assets as files,
// deterministic zip files, and the env.json that `sam local invoke` takes. tools/release runs it
// for make release; infra/cdk's tests hold it to the synthesized stack.
package release
