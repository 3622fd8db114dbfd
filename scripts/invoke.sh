#!/usr/bin/env bash
# make invoke-<function>: the stand-in for `sam local invoke` on machines without Docker. Builds the
# function for this machine, starts moto_server (Secrets Manager, DynamoDB, S3) and the Cloud ALM
# simulator on loopback, runs the bootstrap under the Lambda Runtime Interface Emulator and posts
# every events/<function>-*.json to it, printing each response.
set -euo pipefail
fn=${1:?usage: invoke.sh collect|testconn}
cd "$(dirname "$0")/.."
[ -d "functions/$fn" ] || { echo "invoke: no function functions/$fn" >&2; exit 2; }
rie=${CALM_RIE:-.bin/aws-lambda-rie}
[ -x "$rie" ] || { echo "invoke: $rie is missing: run make tools" >&2; exit 1; }
command -v moto_server >/dev/null || { echo "invoke: moto_server is not installed: pip install 'moto[server]' (README, Set-up)" >&2; exit 1; }
command -v aws >/dev/null || { echo "invoke: the aws CLI is not installed: pip install awscli, or brew install awscli (README, Set-up)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "invoke: python3 is not installed: apt-get install -y python3, or brew install python (README, Set-up)" >&2; exit 1; }

work=build/invoke/$fn
rm -rf "$work" && mkdir -p "$work"
go build -tags lambda.norpc -trimpath -o "$work/bootstrap" "./functions/$fn"
go build -trimpath -o build/calmctl ./cmd/calmctl

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

moto=$(freeport)
moto_server -H 127.0.0.1 -p "$moto" >"$work/moto.log" 2>&1 & pids+=($!)
# The sample events name the simulator at 127.0.0.1:8787 (events/testconn-post.json).
build/calmctl sim --addr 127.0.0.1:8787 --write-secret "$work/secret.json" >"$work/sim.log" 2>&1 & pids+=($!)
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$moto/moto-api/" >/dev/null 2>&1 && [ -s "$work/secret.json" ] && break
  sleep 0.1
done
[ -s "$work/secret.json" ] || { echo "invoke: the simulator did not start (is 127.0.0.1:8787 in use?); see $work/sim.log" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
awsl() { aws --endpoint-url "http://127.0.0.1:$moto" "$@" >/dev/null; }
# The stack's default connector, under the stack's prefix, so the queue message
# (events/collect-queue.json, connector "default") and the dispatch find it.
prefix=calm-collector/CalmCollector/connectors/
awsl secretsmanager create-secret --name "${prefix}default" --secret-string "file://$work/secret.json"
queue=$(aws --endpoint-url "http://127.0.0.1:$moto" sqs create-queue --queue-name calm-work --query QueueUrl --output text)
awsl dynamodb create-table --table-name calm-state --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
  --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE
awsl s3 mb s3://calm-records

port=$(freeport); api=$(freeport)
env -i PATH="$PATH" HOME="$HOME" \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ENDPOINT_URL="http://127.0.0.1:$moto" \
  CALM_SECRET_ID="${prefix}default" CALM_CONNECTOR_PREFIX="$prefix" CALM_QUEUE_URL="$queue" \
  CALM_STATE_TABLE=calm-state CALM_SINKS="stdout,s3://calm-records/records" \
  CALM_TESTCONN_ALLOW_LOOPBACK=true \
  "$rie" --runtime-interface-emulator-address "127.0.0.1:$port" --runtime-api-address "127.0.0.1:$api" \
  "$work/bootstrap" >"$work/function.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

for ev in events/"$fn"-*.json; do
  echo "== $ev"
  curl -sS -X POST "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" --data-binary "@$ev"
  echo
done
echo "== function log: $work/function.log (last lines)"
tail -n 5 "$work/function.log"
echo "== S3 objects written: $(aws --endpoint-url "http://127.0.0.1:$moto" s3 ls --recursive s3://calm-records | wc -l)"
