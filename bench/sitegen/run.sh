#!/bin/sh
# Render a generated 2,000-page markdown corpus with sitegen and with Hugo in the same run and print both wall
# times and their ratio. Needs the `hugo` binary (Debian: apt-get install -y hugo).
set -eu
cd "$(dirname "$0")/../.."
go build -o "${TMPDIR:-/tmp}/sitegen-bench" ./bench/sitegen
exec "${TMPDIR:-/tmp}/sitegen-bench" "$@"
