#!/usr/bin/env bash
# Fails (exit 1) when deploy/kubernetes/prometheusrule.yaml is not exactly what
# the mixin renders (deploy/gen-prometheusrule.sh), or when its spec does not
# hold the same groups as alerts/vbs_exporter.rules.yml. With promtool on PATH
# (or PROMTOOL=/path) it also checks the rules embedded in the manifest.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
committed=$here/kubernetes/prometheusrule.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/gen-prometheusrule.sh" >"$tmp/prometheusrule.yaml"

if [ ! -f "$committed" ]; then
	echo "check-prometheusrule.sh: $committed is missing; run make mixin" >&2
	exit 1
fi
if ! diff -u "$committed" "$tmp/prometheusrule.yaml"; then
	echo "check-prometheusrule.sh: deploy/kubernetes/prometheusrule.yaml is out of date with mixin/; run make mixin" >&2
	exit 1
fi

PROMTOOL=${PROMTOOL:-promtool}
if command -v "$PROMTOOL" >/dev/null 2>&1; then
	# The manifest's spec, de-indented, is a rule file again.
	sed -n '/^spec:$/,$p' "$committed" | tail -n +2 | sed 's/^  //' >"$tmp/spec.rules.yml"
	# Same groups as the rule file (both rendered from the mixin).
	sed -n '/^groups:$/,$p' "$here/../alerts/vbs_exporter.rules.yml" >"$tmp/file.rules.yml"
	if ! diff -u "$tmp/file.rules.yml" "$tmp/spec.rules.yml"; then
		echo "check-prometheusrule.sh: the PrometheusRule's spec differs from alerts/vbs_exporter.rules.yml; run make mixin" >&2
		exit 1
	fi
	"$PROMTOOL" check rules "$tmp/spec.rules.yml" >/dev/null || {
		echo "check-prometheusrule.sh: the rules in $committed do not pass promtool check rules" >&2
		"$PROMTOOL" check rules "$tmp/spec.rules.yml" >&2 || true
		exit 1
	}
fi
echo "check-prometheusrule.sh: deploy/kubernetes/prometheusrule.yaml is up to date"
