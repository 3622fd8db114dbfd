# CDK targets, included by the main Makefile (which exports
# JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION and CDK_DISABLE_CLI_TELEMETRY).
# Stack settings are CDK context: defaults in cdk.json, overrides with
#   make deploy CDK_ARGS='-c connectors=["prod","test"] -c alarmEmail=ops@example.com'
#   make synth  CDK_CONTEXT_JSON='{"archive":false}'
#   make synth-scale CONNECTORS=1000 SCALE_CONTEXT='"sinks":["stdout","otlp+https://otel.example.com"]'

CDK_VERSION := 2.1148.1
CDK         := npx --yes aws-cdk@$(CDK_VERSION)
CDK_OUTDIR  := cdk.out
CDK_ARGS    ?=

.PHONY: synth
synth: build ## synthesize the stack into cdk.out, offline (no AWS credentials needed); a failed synth keeps the last good one
	scripts/synth.sh $(CDK_OUTDIR) go run ./infra/cdk

CONNECTORS      ?= 1000
SCALE_OUTDIR    := build/cdk-scale
SCALE_CONTEXT   ?=

.PHONY: synth-scale
synth-scale: build ## synthesize with CONNECTORS (default 1000) generated connectors into build/cdk-scale; fails on cdk-nag errors, a template over CloudFormation's limits, or cfn-lint
	scripts/synth-scale.sh $(CONNECTORS) $(SCALE_OUTDIR) '$(SCALE_CONTEXT)'

.PHONY: cdk-bootstrap
cdk-bootstrap: ## once per account and region: the CDK asset bucket and roles (AWS credentials)
	$(CDK) bootstrap $(CDK_ARGS)

.PHONY: diff
diff: build ## what deploy would change (AWS credentials)
	$(CDK) diff --output $(CDK_OUTDIR) $(CDK_ARGS)

.PHONY: deploy
deploy: build ## build, then cdk deploy with cdk.json's app (AWS credentials; CDK_ARGS for -c overrides)
	$(CDK) deploy --output $(CDK_OUTDIR) --require-approval broadening $(CDK_ARGS)

.PHONY: destroy
destroy: build ## delete the stack; the state table and the archive bucket are retained (AWS credentials)
	$(CDK) destroy --output $(CDK_OUTDIR) $(CDK_ARGS)

.PHONY: cdk-test
cdk-test: ## the stack's tests: assertions, cdk-nag, IAM wildcards, cfn-lint
	go test -count=1 ./infra/cdk/

.PHONY: cfn-lint
cfn-lint: synth ## lint the synthesized templates with cfn-lint
	cfn-lint --ignore-checks W3005 -- $(CDK_OUTDIR)/*.template.json
