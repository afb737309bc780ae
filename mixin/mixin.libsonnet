// vbs_exporter monitoring mixin: prometheusRules (recording rules, group
// "vbs_exporter.rules"), prometheusAlerts (group "vbs_exporter") and
// grafanaDashboards ("vbs-overview.json"). Knobs: config.libsonnet.
(import 'config.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
