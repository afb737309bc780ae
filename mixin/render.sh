#!/usr/bin/env bash
# Renders the mixin into OUTDIR (default: the repository root):
#   OUTDIR/alerts/vbs_exporter.rules.yml
#   OUTDIR/dashboards/vbs-overview.json
#   OUTDIR/deploy/kubernetes/prometheusrule.yaml
# with go-jsonnet, a Go tool dependency of this module (`go tool jsonnet`).
# `make mixin` renders in place; `make check-mixin` renders into a temporary
# directory and fails when a committed file differs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
GO=${GO:-go}
cd "$root"
mkdir -p "$out/alerts" "$out/dashboards" "$out/deploy/kubernetes"
render() { # render SRC DEST: write atomically, never leave a half file.
	local tmp
	tmp=$(mktemp "$2.XXXXXX")
	if ! "$GO" tool jsonnet -S "$1" >"$tmp"; then
		rm -f "$tmp"
		echo "mixin/render.sh: rendering $1 failed" >&2
		return 1
	fi
	mv "$tmp" "$2"
}
render mixin/render/rules.jsonnet "$out/alerts/vbs_exporter.rules.yml"
render mixin/render/dashboard.jsonnet "$out/dashboards/vbs-overview.json"
render mixin/render/prometheusrule.jsonnet "$out/deploy/kubernetes/prometheusrule.yaml"
