#!/usr/bin/env bash
# make release: everything a release ships, from a clean tree, into build/release/:
#   calmctl_<version>_<os>_<arch>[.exe]         linux, darwin, windows on amd64 and arm64
#   calm-collector-<fn>_<version>_linux_arm64.zip  the collect and testconn functions (bootstrap)
#   cloudformation/CalmCollector.template.json   the stack, deployable without the CDK: its asset
#   cloudformation/assets/*                      references are the parameters AssetsBucket and
#                                                AssetsPrefix (docs/deploy.md, "Deploy a release")
#   SHA256SUMS
# The version is the git tag (git describe), stamped into every binary. Needs Go and Node.js 20+
# (the CDK app synthesizes through jsii); not the CDK CLI. RELEASE_ALLOW_DIRTY=1 builds from a
# tree with changes (the version then ends in -dirty).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/release
stack=CalmCollector

if [ -n "$(git status --porcelain)" ] && [ "${RELEASE_ALLOW_DIRTY:-}" != 1 ]; then
  echo "release: the tree has changes that are not committed (git status); a release is built from a clean tree" >&2
  exit 1
fi
version=$(git describe --tags --match 'v[0-9]*.[0-9]*.[0-9]*' --dirty 2>/dev/null ||
  echo "v0.0.0-dev+$(git rev-parse --short=12 HEAD)")
echo "== calm-collector $version"
ldflags="-s -w -X github.com/calm-collector/calm-collector/internal/version.stamped=$version"
rm -rf "$out" && mkdir -p "$out"

for os in linux darwin windows; do
  for arch in amd64 arm64; do
    ext=""; [ "$os" = windows ] && ext=.exe
    echo "calmctl $os/$arch"
    CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" \
      -o "$out/calmctl_${version}_${os}_${arch}$ext" ./cmd/calmctl
  done
done

# The stamped bootstraps go where the CDK app takes them from (bootstrapDir, build/lambda), so the
# template's assets are these very binaries.
for fn in collect testconn; do
  echo "function $fn (linux/arm64)"
  rm -rf "build/lambda/$fn" && mkdir -p "build/lambda/$fn"
  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "$ldflags" \
    -o "build/lambda/$fn/bootstrap" "./functions/$fn"
  go run ./tools/release zip "$out/calm-collector-${fn}_${version}_linux_arm64.zip" "build/lambda/$fn"
done

echo "synthesize $stack (the CDK app, no CDK CLI)"
assembly=build/release-cdk.out
rm -rf "$assembly"
JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true CDK_OUTDIR=$assembly go run ./infra/cdk
go run ./tools/release package "$assembly" "$stack" "$out/cloudformation"
if command -v cfn-lint >/dev/null; then
  cfn-lint --ignore-checks W3005 -- "$out/cloudformation/$stack.template.json"
else
  echo "release: cfn-lint is not installed, so the packaged template was not linted (pip install cfn-lint)" >&2
fi

sha="sha256sum"; command -v sha256sum >/dev/null || sha="shasum -a 256" # macOS has shasum
(cd "$out" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs $sha > SHA256SUMS)
echo "== build/release:"
(cd "$out" && ls -l calmctl_* calm-collector-* SHA256SUMS && echo "cloudformation/: $(find cloudformation -type f | wc -l) files")
