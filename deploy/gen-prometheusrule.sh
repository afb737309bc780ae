#!/usr/bin/env bash
# Prints deploy/kubernetes/prometheusrule.yaml (a Prometheus Operator
# PrometheusRule) as the monitoring mixin renders it: the same groups as
# alerts/vbs_exporter.rules.yml, both rendered from mixin/ (jsonnet).
#
#   deploy/gen-prometheusrule.sh            # to stdout
#   make mixin                              # renders it in place with the other files
#
# deploy/check-prometheusrule.sh fails when the committed file has drifted.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec "${GO:-go}" tool jsonnet -S mixin/render/prometheusrule.jsonnet
