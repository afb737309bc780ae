// Renders deploy/kubernetes/prometheusrule.yaml: `make mixin`.
local mixin = import '../mixin.libsonnet';
local yaml = import '../lib/yaml.libsonnet';
(importstr 'prometheusrule-header.txt')
+ |||
  apiVersion: monitoring.coreos.com/v1
  kind: PrometheusRule
  metadata:
    name: vbs-exporter
    labels:
      app.kubernetes.io/name: vbs-exporter
      app.kubernetes.io/component: alerting-rules
  spec:
|||
+ yaml.ruleFile(mixin.prometheusRules.groups + mixin.prometheusAlerts.groups, '  ')
