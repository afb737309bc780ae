#!/usr/bin/env bash
# Runs the exporter in demo mode on loopback, scrapes /metrics and /probe, and
# feeds both to `promtool check metrics`. Fails on any lint finding.
# promtool: $PROMTOOL, else on PATH, else a pinned build (scripts/tool.sh).
set -euo pipefail
bin=${1:-./vbs_exporter}
promtool=$("$(dirname "$0")/tool.sh" --path promtool)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 19097)
log=$(mktemp)
"$bin" --demo --web.listen-address="127.0.0.1:${port}" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:${port}/-/healthy" >/dev/null 2>&1 && break
  sleep 0.1
done
fail=0
for path in "/metrics" "/probe?target=demo"; do
  out=$(curl -fsS "http://127.0.0.1:${port}${path}")
  if ! grep -q '^vbs_up{target="demo"} 1$' <<<"$out"; then
    echo "check-metrics: ${path}: vbs_up is not 1" >&2; fail=1
  fi
  if ! res=$("$promtool" check metrics <<<"$out" 2>&1); then
    echo "check-metrics: ${path}: promtool check metrics found problems:" >&2
    echo "$res" >&2
    fail=1
  else
    echo "check-metrics: ${path}: promtool check metrics clean ($(grep -vc '^#' <<<"$out") samples)"
  fi
done
if [ "$fail" -ne 0 ]; then cat "$log" >&2; fi
exit "$fail"
