# calm-collector — small phony targets; build output goes under build/, tools under .bin/.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

BIN        := $(CURDIR)/.bin
BUILD      := $(CURDIR)/build
RIE        := $(BIN)/aws-lambda-rie
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
BENCHSTAT  := $(BIN)/benchstat
BENCHSTAT_MODULE := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
GOLANGCI_LINT := $(BIN)/golangci-lint
GOLANGCI_LINT_MODULE := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
FUNCTIONS  := collect testconn
TEST_TIMEOUT ?= 30m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: tools
tools: $(RIE) $(GOLANGCI_LINT) ## install the tools the tests and lint use (Lambda RIE, golangci-lint) into .bin/

$(RIE):
	GOBIN=$(BIN) go install $(RIE_MODULE)

$(GOLANGCI_LINT):
	GOBIN=$(BIN) go install $(GOLANGCI_LINT_MODULE)

$(BENCHSTAT):
	GOBIN=$(BIN) go install $(BENCHSTAT_MODULE)

.PHONY: build
build: $(addprefix $(BUILD)/lambda/,$(addsuffix /bootstrap,$(FUNCTIONS))) $(BUILD)/calmctl ## build the Lambda bootstraps (linux/arm64) and calmctl

$(BUILD)/lambda/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build $(LAMBDA_GOFLAGS) -o $@ ./functions/$*

$(BUILD)/calmctl: FORCE
	CGO_ENABLED=0 go build -trimpath -o $@ ./cmd/calmctl

.PHONY: FORCE
FORCE:

.PHONY: run
run: $(BUILD)/calmctl ## the main job: simulator, connection test, two collections into ./out
	scripts/run.sh

# Tests whose tool is missing skip (internal/testkit) and note it in TEST_SKIPS; the run ends by
# naming every missing tool, the tests it skipped and how to install it, and fails unless
# CALM_ALLOW_MISSING_TOOLS=1 (scripts/test-skips.sh).
TEST_SKIPS := $(BUILD)/test-skips.tsv

.PHONY: test
test: tools lint ## the whole test suite (what CI runs): lint, every test, a short fuzz of every target; fails when a tool a test needs is missing (CALM_ALLOW_MISSING_TOOLS=1 to run what you can)
	@mkdir -p $(BUILD) && rm -f $(TEST_SKIPS)
	CALM_TEST_SKIPS=$(TEST_SKIPS) CALM_RIE=$(RIE) go test -count=1 -timeout $(TEST_TIMEOUT) ./... || { scripts/test-skips.sh $(TEST_SKIPS) || true; exit 1; }
	CALM_TEST_SKIPS=$(TEST_SKIPS) $(MAKE) --no-print-directory fuzz-short
	@scripts/test-skips.sh $(TEST_SKIPS)

.PHONY: transcripts
transcripts: ## record the simulator transcripts of the replay suite again (both readings, every sim behaviour; docs/transcripts.md)
	go test -count=1 ./internal/collect -run 'TestTranscriptsReplayExactly$$' -update-transcripts

FUZZTIME ?= 10s
.PHONY: fuzz-short
fuzz-short: ## a short run of every fuzz target (FUZZTIME, default 10s each)
	scripts/fuzz.sh $(FUZZTIME)

.PHONY: fuzz-wire
fuzz-wire: ## only the differential fuzzers of the protobuf wire readers against pdata (FUZZTIME each; make fuzz-short runs them too)
	FUZZ_WIRE=1 scripts/fuzz.sh $(FUZZTIME)

.PHONY: lint
lint: $(GOLANGCI_LINT) ## gofmt, go vet, golangci-lint (.golangci.yml), go.mod/go.sum tidy, commit subjects <= 72
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	$(GOLANGCI_LINT) run ./...
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy and commit the result"; exit 1; }
	@scripts/check-subjects.sh

.PHONY: bench
bench: tools $(BENCHSTAT) ## benchmarks behind BENCHMARKS.md
	BENCHSTAT=$(BENCHSTAT) scripts/bench.sh

.PHONY: bench-compare
bench-compare: tools $(BENCHSTAT) ## issue 14's benchmarks and the steady-state run for BASE=REV and the work tree, interleaved, side by side
	BENCHSTAT=$(BENCHSTAT) scripts/bench-compare.sh $(BASE)

.PHONY: coldstart
coldstart: $(RIE) ## cold start of both functions under the Lambda RIE: 10 starts each, the medians (scripts/coldstart.sh)
	scripts/coldstart.sh 10

.PHONY: invoke-%
invoke-%: $(RIE) ## run a built function under the Lambda RIE with its events/ files (invoke-collect, invoke-testconn)
	scripts/invoke.sh $*

.PHONY: release
release: ## from a clean tree: calmctl for 6 platforms, the Lambda zips, SHA-256 sums, a template deployable without the CDK, into build/release/
	scripts/release.sh

.PHONY: env-json
env-json: synth ## write events/env.json (sam local invoke --env-vars) from the synthesized stack
	go run ./tools/release envjson $(CDK_OUTDIR)/CalmCollector.template.json > events/env.json

.PHONY: clean
clean: ## remove build output
	rm -rf $(BUILD) cdk.out out

-include mk/*.mk
