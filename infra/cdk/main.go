package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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
	NewCollectorStack(app, cfg)
	AddChecks(app)
	app.Synth(nil)
	return 0
}
