#!/usr/bin/env bash
# Checks every query of the Grafana dashboards in this directory.
#
# Each panel expression gets the Grafana variables replaced the way the
# end-to-end test does ($job/$instance/$target/$policy -> .*, $__rate_interval -> 5m,
# $__range -> 1h, $__interval -> 1m), then:
#   - always: it must parse (promtool check rules on a generated rule file);
#   - with PROMETHEUS_URL set (e.g. http://127.0.0.1:9090): it must run on that
#     server without error, and return data unless REQUIRE_DATA=0.
# Needs jq, and promtool as scripts/tool.sh finds it (PROMTOOL=/path to
# override); curl for PROMETHEUS_URL.
set -u -o pipefail

cd "$(dirname "$0")"
command -v jq >/dev/null 2>&1 || { echo "dashboards/check.sh: jq not found" >&2; exit 2; }
PROMTOOL=$(../scripts/tool.sh --path promtool) || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

for dash in *.json; do
	# "panel title<TAB>expr" for every target of every panel (rows included).
	jq -r '
		[.panels[], (.panels[] | .panels[]?)] | .[]
		| . as $p | (.targets // [])[] | select(.expr != null and .expr != "")
		| [$p.title, (.expr | gsub("\n"; " "))] | @tsv' "$dash" |
	sed -e 's/\$__rate_interval/5m/g' -e 's/\$__range/1h/g' -e 's/\$__interval/1m/g' \
		-e 's/\${\{0,1\}\(job\|instance\|target\|policy\)}\{0,1\}/.*/g' \
		>"$tmp/exprs.tsv"

	if grep -q '\$' <(cut -f2 "$tmp/exprs.tsv"); then
		echo "$dash: unsupported variable in:" >&2
		cut -f2 "$tmp/exprs.tsv" | grep '\$' >&2
		status=1
	fi

	{
		echo "groups:"
		echo "  - name: dashboard"
		echo "    rules:"
		n=0
		while IFS=$'\t' read -r title expr; do
			n=$((n + 1))
			echo "      - record: dashboard_query_$n"
			printf '        expr: %s\n' "$(jq -Rn --arg e "$expr" '$e')"
		done <"$tmp/exprs.tsv"
	} >"$tmp/rules.yml"
	if ! "$PROMTOOL" check rules "$tmp/rules.yml" >"$tmp/promtool.log" 2>&1; then
		echo "$dash: a query does not parse:" >&2
		cat "$tmp/promtool.log" >&2
		status=1
	else
		echo "$dash: $(wc -l <"$tmp/exprs.tsv") queries parse"
	fi

	if [ -n "${PROMETHEUS_URL:-}" ]; then
		while IFS=$'\t' read -r title expr; do
			out=$(curl -fsS --get "${PROMETHEUS_URL%/}/api/v1/query" --data-urlencode "query=$expr" 2>&1) || {
				echo "$dash: [$title] query failed: $out" >&2; echo "  $expr" >&2; status=1; continue; }
			if [ "$(jq -r .status <<<"$out")" != success ]; then
				echo "$dash: [$title] error: $out" >&2; status=1; continue
			fi
			if [ "${REQUIRE_DATA:-1}" != 0 ] && [ "$(jq '.data.result | length' <<<"$out")" -eq 0 ]; then
				echo "$dash: [$title] returned no data:" >&2; echo "  $expr" >&2; status=1
			fi
		done <"$tmp/exprs.tsv"
		[ $status -eq 0 ] && echo "$dash: every query returns data from $PROMETHEUS_URL"
	fi
done
exit $status
