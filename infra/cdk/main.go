package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

func main() { os.Exit(run()) }

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{
		// Asset paths in the template let `sam local invoke` find the
		// bootstraps when synthesized without the CDK CLI.
		Context: &map[string]any{"aws:cdk:enable-asset-metadata": true},
	})
	cfg, err := ConfigFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		fmt.Fprintf(os.Stderr, "calm-collector cdk: bad configuration:\n%v\n", err)
		return 2
	}
	stack := NewCollectorStack(app, cfg)
	AddChecks(app)
	tpl, _ := app.Synth(nil).GetStackArtifact(stack.Stack.ArtifactId()).Template().(map[string]any)
	if errs := stackProblems(app, tpl, cfg); len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "calm-collector cdk: %d error(s) in the synthesized stack (cdk-nag findings among them); "+
			"fix them or add a suppression with its reason (docs/deploy.md, \"Checks at synth\"):\n", len(errs))
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "  "+e)
		}
		return 1
	}
	return 0
}

// synthErrors lists the error annotations left on the app's constructs after synthesis, one
// "path: message" each: cdk-nag's AwsSolutions findings and CDK's own errors. The CDK CLI
// refuses to deploy a stack with any; a plain `go run ./infra/cdk` (make synth, make
// synth-scale) fails on them the same way.
func synthErrors(app awscdk.App) []string {
	var out []string
	for _, c := range *app.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		for _, m := range *c.Node().Metadata() {
			if m.Type != nil && *m.Type == "aws:cdk:error" {
				out = append(out, fmt.Sprintf("%s: %v", *c.Node().Path(), m.Data))
			}
		}
	}
	return out
}
