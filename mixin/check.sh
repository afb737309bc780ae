#!/usr/bin/env bash
# Fails (exit 1) when a committed rendered file is not exactly what the mixin
# renders now: alerts/vbs_exporter.rules.yml, dashboards/vbs-overview.json or
# deploy/kubernetes/prometheusrule.yaml was edited by hand, or mixin/ was
# changed without `make mixin`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/mixin/render.sh" "$tmp"
status=0
for f in alerts/vbs_exporter.rules.yml dashboards/vbs-overview.json deploy/kubernetes/prometheusrule.yaml; do
	if [ ! -f "$root/$f" ]; then
		echo "mixin/check.sh: $f is missing; run make mixin" >&2
		status=1
	elif ! diff -u "$root/$f" "$tmp/$f"; then
		echo "mixin/check.sh: $f is stale: it differs from what mixin/ renders; run make mixin" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "mixin/check.sh: rendered files are up to date"
exit $status
