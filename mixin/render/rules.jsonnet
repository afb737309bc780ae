// Renders alerts/vbs_exporter.rules.yml: `make mixin` (go tool jsonnet -S).
local mixin = import '../mixin.libsonnet';
local yaml = import '../lib/yaml.libsonnet';
(importstr 'rules-header.txt')
+ yaml.ruleFile(mixin.prometheusRules.groups + mixin.prometheusAlerts.groups)
