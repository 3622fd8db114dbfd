#!/bin/sh
# synth.sh OUTDIR COMMAND...: runs COMMAND with CDK_OUTDIR=OUTDIR.new and, only when it
# succeeds, puts OUTDIR.new in place of OUTDIR. A failed synthesis leaves the last good template
# in OUTDIR (make synth; docs/deploy.md).
set -eu
out=$1
shift
rm -rf "$out.new"
if ! CDK_OUTDIR="$out.new" "$@"; then
	rm -rf "$out.new"
	echo "synth failed: $out keeps the last good template" >&2
	exit 1
fi
rm -rf "$out.old"
if [ -e "$out" ]; then mv "$out" "$out.old"; fi
mv "$out.new" "$out"
rm -rf "$out.old"
