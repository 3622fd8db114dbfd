#!/usr/bin/env bash
# make synth-scale: synthesize the stack with N generated connectors (tenant-0000 …) into its own
# out dir, fail on any cdk-nag or CDK error (infra/cdk exits 1 on them), hold every template
# (nested stacks too) to CloudFormation's per-stack limits, and run cfn-lint on all of them.
# Usage: synth-scale.sh N OUTDIR [EXTRA_CONTEXT_JSON], e.g. 1000 build/cdk-scale '"sinks":["stdout","otlp+https://otel.example.com"]'
set -euo pipefail
n=${1:?usage: synth-scale.sh N OUTDIR [EXTRA_CONTEXT_JSON]}
out=${2:?usage: synth-scale.sh N OUTDIR [EXTRA_CONTEXT_JSON]}
extra=${3:-}
cd "$(dirname "$0")/.."

# The connector names travel in CDK_CONTEXT_JSON, one environment variable (Linux: 128 KiB).
if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 5000)); then
  echo "synth-scale: CONNECTORS=$n: want a whole number from 1 to 5000" >&2
  exit 2
fi
command -v cfn-lint >/dev/null || { echo "synth-scale: cfn-lint is not installed (pip install cfn-lint)" >&2; exit 1; }

names=$(printf '"tenant-%04d",' $(seq 0 $((n - 1))))
context="{\"connectors\":[${names%,}]${extra:+,$extra}}"

rm -rf "$out"
start=$SECONDS
echo "synth-scale: synthesizing $n connectors into $out"
CDK_OUTDIR=$out CDK_CONTEXT_JSON=$context go run ./infra/cdk
synth=$((SECONDS - start))

shopt -s nullglob
templates=("$out"/*.template.json)
((${#templates[@]} > 0)) || { echo "synth-scale: no template in $out" >&2; exit 1; }

# Per template: bytes, resources, outputs; over a CloudFormation limit fails.
python3 - "${templates[@]}" <<'PY'
import json, os, sys
limits = {"bytes": 1 << 20, "resources": 500, "outputs": 200}
bad = False
for path in sys.argv[1:]:
    tpl = json.load(open(path))
    got = {"bytes": os.path.getsize(path), "resources": len(tpl.get("Resources", {})), "outputs": len(tpl.get("Outputs", {}))}
    secrets = sum(1 for r in tpl.get("Resources", {}).values() if r.get("Type") == "AWS::SecretsManager::Secret")
    print(f"  {os.path.basename(path)}: {got['bytes']} bytes, {got['resources']} resources ({secrets} secrets), {got['outputs']} outputs")
    for k, limit in limits.items():
        if got[k] > limit:
            print(f"synth-scale: {os.path.basename(path)}: {got[k]} {k}, over the CloudFormation limit of {limit}", file=sys.stderr)
            bad = True
sys.exit(1 if bad else 0)
PY

lint_start=$SECONDS
cfn-lint --non-zero-exit-code warning --ignore-checks W3005 -- "${templates[@]}"
echo "synth-scale: $n connectors: ${#templates[@]} templates, cdk-nag and cfn-lint clean; synth ${synth}s, cfn-lint $((SECONDS - lint_start))s"
