#!/usr/bin/env bash
# Checks the alerting files: promtool check rules, promtool test rules on
# alerts/tests/*.yml, and amtool check-config on the Alertmanager example.
# Exits non-zero on the first kind of failure found (all checks still run).
#
# Tools: promtool and amtool as scripts/tool.sh finds them: $PROMTOOL and
# $AMTOOL when set, else on PATH (Debian packages "prometheus" and
# "prometheus-alertmanager"), else a pinned build from source, cached.
set -u -o pipefail

cd "$(dirname "$0")"
PROMTOOL=$(../scripts/tool.sh --path promtool) || exit 2
AMTOOL=$(../scripts/tool.sh --path amtool) || exit 2

status=0
fail() { echo "alerts/check.sh: FAILED: $*" >&2; status=1; }

"$PROMTOOL" check rules vbs_exporter.rules.yml || fail "promtool check rules"

# The test files are independent; run them in parallel, print each log in order.
shopt -s nullglob
tests=(tests/*.yml)
if [ ${#tests[@]} -eq 0 ]; then
	fail "no tests in alerts/tests/"
else
	logs=$(mktemp -d)
	trap 'rm -rf "$logs"' EXIT
	pids=()
	for t in "${tests[@]}"; do
		"$PROMTOOL" test rules "$t" >"$logs/$(basename "$t").log" 2>&1 &
		pids+=($!)
	done
	for i in "${!tests[@]}"; do
		if wait "${pids[$i]}"; then
			cat "$logs/$(basename "${tests[$i]}").log"
		else
			cat "$logs/$(basename "${tests[$i]}").log"
			fail "promtool test rules ${tests[$i]}"
		fi
	done
fi

"$AMTOOL" check-config alertmanager.example.yml || fail "amtool check-config"

if [ $status -eq 0 ]; then
	echo "alerts/check.sh: OK"
fi
exit $status
