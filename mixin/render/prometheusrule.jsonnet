// Renders deploy/kubernetes/prometheusrule.yaml: `make mixin`.
local mixin = import '../mixin.libsonnet';
local header = importstr 'prometheusrule-header.txt';
header + std.manifestYamlDoc(
  {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'vbs-exporter',
      labels: {
        'app.kubernetes.io/name': 'vbs-exporter',
        'app.kubernetes.io/component': 'alerting-rules',
      },
    },
    spec: { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups },
  },
  indent_array_in_object=true,
  quote_keys=false,
) + '\n'
