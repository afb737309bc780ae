// Renders dashboards/vbs-overview.json: `make mixin`.
local mixin = import '../mixin.libsonnet';
std.manifestJsonEx(mixin.grafanaDashboards['vbs-overview.json'], '  ') + '\n'
