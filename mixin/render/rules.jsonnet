// Renders alerts/vbs_exporter.rules.yml: `make mixin` (go tool jsonnet -S).
local mixin = import '../mixin.libsonnet';
local header = importstr 'rules-header.txt';
header + std.manifestYamlDoc(
  { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups },
  indent_array_in_object=true,
  quote_keys=false,
) + '\n'
