#!/bin/sh
# Build a fleet whose runbook/ holds 2,000 generated pages with `herofleet site build` and the same pages with Hugo,
# in the same run, in one folder and in 20 sections; print wall time, peak RSS and output size of both and their
# ratios. Needs `hugo` (Debian: apt-get install -y hugo) and /usr/bin/time (Debian package `time`).
set -eu
cd "$(dirname "$0")/../.."
bin="${TMPDIR:-/tmp}/sitegen-bench-bin"
mkdir -p "$bin"
go build -o "$bin/herofleet" ./cmd/herofleet
go build -o "$bin/sitegen-bench" ./bench/sitegen
exec "$bin/sitegen-bench" -herofleet "$bin/herofleet" "$@"
