// The Grafana dashboard "VBS backups overview" (vbs-overview.json).
//
// Every query carries the $job and $instance variables: raw exporter series
// through their selectors, recording rules (which drop job/instance) through
// "and on (target) vbs_up{job=~"$job", instance=~"$instance"}". The panels
// that mirror an alert read the same recording rules as the alert, so the
// dashboard and the pager agree (e.g. "Disks behind schedule" and
// VBSBackupMissed both read vbs:resource_behind_schedule_seconds).
local u = import '../lib/utils.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local ds = { type: 'prometheus', uid: '${datasource}' },
    local jobInst = ['job=~"$job"', 'instance=~"$instance"'],
    // Raw series, scoped to the variables.
    local raw(name, extra=[]) = u.metric(name, [c.vbsSelector] + jobInst + extra),
    local rawT(name, extra=[]) = raw(name, [c.targetSelector, 'target=~"$target"'] + extra),
    local rawP(name, extra=[]) = rawT(name, ['policy_name=~"$policy"'] + extra),
    // Recording-rule series, scoped to the targets the selected job/instance serve.
    local scope = 'on (target) %s' % rawT('vbs_up'),
    local rec(name, extra=[]) = u.metric(name, ['target=~"$target"'] + extra),
    local recP(name, extra=[]) = rec(name, ['policy_name=~"$policy"'] + extra),
    // Adds resource_name (from vbs_resource_info) to a per-disk result; disks
    // without a known name stay, without the label.
    local withName(e) = '(\n  (%s)\n  * on (target, resource_id) group_left (resource_name) vbs:resource_info\n)\nor on (target, resource_id)\n(%s)' % [e, e],
    // Adds vault_name, object_type, protect_type and status (from
    // vbs:vault_info) to a per-vault result; vaults without it stay.
    local withVault(e) = '(\n  (%s)\n  * on (target, vault_id) group_left (vault_name, object_type, protect_type, status) vbs:vault_info\n)\nor on (target, vault_id)\n(%s)' % [e, e],
    local runbookLink(alert) = { title: 'Runbook: ' + alert, url: u.runbook(c.runbookURLBase, alert), targetBlank: true },

    local target(expr, legend='', refId='A', instant=false, table=false) = {
      datasource: ds,
      refId: refId,
      expr: expr,
      legendFormat: legend,
      range: !instant,
      instant: instant,
      format: if table then 'table' else 'time_series',
    },
    local panel(type, title, description, unit, targets, w, h, links=[]) = {
      type: type,
      title: title,
      description: description,
      datasource: ds,
      targets: targets,
      links: links,
      fieldConfig: { defaults: { unit: unit }, overrides: [] },
      gridPos: { w: w, h: h },
    },
    local stat(title, description, unit, targets, w=4, links=[], thresholds=null) =
      panel('stat', title, description, unit, targets, w, 4, links) {
        fieldConfig+: { defaults+: {
          color: { mode: if thresholds == null then 'fixed' else 'thresholds', fixedColor: 'blue' },
          [if thresholds != null then 'thresholds']: { mode: 'absolute', steps: thresholds },
        } },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          colorMode: 'value',
          graphMode: 'none',
          textMode: 'auto',
        },
      },
    local ts(title, description, unit, targets, w=12, links=[], thresholdLine=null) =
      panel('timeseries', title, description, unit, targets, w, 8, links) {
        fieldConfig+: { defaults+: {
          custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false }
                  + (if thresholdLine == null then {} else { thresholdsStyle: { mode: 'line' } }),
          [if thresholdLine != null then 'thresholds']: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: thresholdLine }] },
        } },
        options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
      },
    local table(title, description, unit, targets, w=24, h=8, links=[], hide=[]) =
      panel('table', title, description, unit, targets, w, h, links) {
        options: { showHeader: true, footer: { show: false }, sortBy: [{ displayName: 'Value', desc: true }] },
        transformations: (if std.length(targets) > 1 then [{ id: 'merge', options: {} }] else []) + [
          { id: 'organize', options: { excludeByName: { Time: true } + { [h]: true for h in hide } } },
        ],
      },
    local row(title) = { type: 'row', title: title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } },

    // Simple flow layout: panels fill rows of width 24 left to right.
    local layout(panels) = std.foldl(
      function(acc, p)
        local w = p.gridPos.w;
        local h = p.gridPos.h;
        local newLine = acc.x + w > 24 || p.type == 'row';
        local x = if newLine then 0 else acc.x;
        local y = if newLine then acc.y + acc.rowH else acc.y;
        {
          x: x + w,
          y: y,
          rowH: if newLine then h else std.max(acc.rowH, h),
          id: acc.id + 1,
          out: acc.out + [p { id: acc.id, gridPos: { x: x, y: y, w: w, h: h } }],
        },
      panels,
      { x: 24, y: 0, rowH: 0, id: 1, out: [] },
    ).out,

    // Every series an exporter exposes on either of its paths.
    local selfSeries(parts) = '{%s}' % u.join(['__name__=~"vbs_up|vbs_exporter_build_info"'] + parts),
    local failedStatus = 'status=~"EXECUTE_FAIL|EXECUTE_TIMEOUT"',
    local q(x) = u.num(x),

    local panels = [
      row('Overview'),
      stat('Targets up', 'VBS targets whose API was reachable and authenticated on the last refresh (vbs_up), of all the targets the selected exporters serve. A target at 0 fires VBSTargetDown.', 'none', [
        target('sum(min by (target) (%s)) or vector(0)' % rawT('vbs_up'), 'up', 'A', true),
        target('count(min by (target) (%s)) or vector(0)' % rawT('vbs_up'), 'configured', 'B', true),
      ], links=[runbookLink('VBSTargetDown')]),
      stat('Policies (enabled / all)', 'Backup policies that are enabled, of all the policies of the selected targets.', 'none', [
        target('sum(max by (target, policy_id) (%s)) or vector(0)' % rawP('vbs_policy_enabled'), 'enabled', 'A', true),
        target('count(max by (target, policy_id) (%s)) or vector(0)' % rawP('vbs_policy_enabled'), 'all', 'B', true),
      ]),
      stat('Disks in policies', "Disks bound to the selected policies (the policies' resource counts).", 'none', [
        target('sum(max by (target, policy_id) (%s)) or vector(0)' % rawP('vbs_policy_resources'), 'disks', 'A', true),
      ]),
      stat('Failing disks', 'Disks whose newest finished job failed or timed out, in enabled policies that still hold disks: exactly the disks VBSBackupFailed is about (it fires after 5 minutes).', 'none', [
        target('count(\n  (%s == 1)\n  and on (target, policy_id) (vbs:policy_enabled == 1)\n  unless on (target, policy_id) (vbs:policy_resources == 0)\n  and %s\n) or vector(0)' % [recP('vbs:resource_last_status', [failedStatus]), scope], 'failing', 'A', true),
      ], links=[runbookLink('VBSBackupFailed')], thresholds=[{ color: 'green', value: null }, { color: 'orange', value: 1 }]),
      stat('Disks behind schedule', 'Disks in vbs:resource_behind_schedule_seconds: no success for longer than %s expected intervals (plus one per consecutive failure), policy enabled, no job running, history complete, not unbound. VBSBackupMissed reads the same series and fires after 10 minutes.' % q(c.missedFactor), 'none', [
        target('count(%s and %s) or vector(0)' % [recP('vbs:resource_behind_schedule_seconds'), scope], 'behind', 'A', true),
      ], links=[runbookLink('VBSBackupMissed')], thresholds=[{ color: 'green', value: null }, { color: 'orange', value: 1 }]),
      stat('Jobs running / waiting', 'Jobs of the selected policies in RUNNING or WAITING state now.', 'none', [
        target('sum(max by (target, policy_id, status) (%s)) or vector(0)' % rawP('vbs_policy_jobs', ['status=~"RUNNING|WAITING"']), 'running', 'A', true),
      ]),

      row('Jobs'),
      ts('Jobs in the lookback window, by status', "Jobs the exporter holds in its lookback window, per status (vbs_policy_jobs). Jobs leave the window as they age, so falling counts are normal.", 'short', [
        target('sum by (status) (max by (target, policy_id, status) (%s))' % rawP('vbs_policy_jobs'), '{{status}}'),
      ]),
      ts('Failed and timed-out jobs per policy', 'EXECUTE_FAIL and EXECUTE_TIMEOUT jobs in the lookback window, per policy.', 'short', [
        target('sum by (target, policy_name) (max by (target, policy_id, policy_name, status) (%s))' % rawP('vbs_policy_jobs', [failedStatus]), '{{target}} / {{policy_name}}'),
      ], links=[runbookLink('VBSBackupFailed')]),
      ts('Time since the newest job, of the not-running threshold', "Age of each policy's newest job as a share of vbs:policy_not_running_threshold_seconds (the expected interval + %ds): VBSPolicyNotRunning fires 10 minutes after a policy crosses 100 %%." % c.notRunningMarginSeconds, 'percentunit', [
        target('(\n  (time() - %s)\n  / on (target, policy_id) group_left ()\n  vbs:policy_not_running_threshold_seconds\n) and %s' % [recP('vbs:policy_last_job_timestamp_seconds'), scope], '{{target}} / {{policy_name}}'),
      ], w=24, links=[runbookLink('VBSPolicyNotRunning')], thresholdLine=1),

      row('Disks'),
      table('Disks behind schedule', 'Each disk in vbs:resource_behind_schedule_seconds, the series VBSBackupMissed reads, with the seconds since its last success; the disk name where vbs_resource_info knows it. Warning past the threshold, critical one expected interval later.', 's', [
        target(withName('%s and %s' % [recP('vbs:resource_behind_schedule_seconds'), scope]), '', 'A', true, true),
      ], h=8, links=[runbookLink('VBSBackupMissed')]),
      table('Time since last success, per disk', "Seconds since each disk's last successful backup (vbs:resource_last_success_timestamp_seconds), with the disk name where known. Compare with the policy's expected interval: a disk is behind schedule past %s intervals." % q(c.missedFactor), 's', [
        target(withName('time() - %s and %s' % [recP('vbs:resource_last_success_timestamp_seconds'), scope]), '', 'A', true, true),
      ], h=10, links=[runbookLink('VBSBackupMissed')]),
      table('Failing disks', "Disks whose newest finished job failed, with their consecutive failures (VBSBackupFailed is critical from %d), the newest failure's code and message, and the disk name where known." % c.failedCriticalCount, 'short', [
        local f = '(%s > 0) and %s' % [recP('vbs:resource_consecutive_failures'), scope];
        local withFailure = '(\n  (%s)\n  * on (target, policy_id, resource_id) group_left (code, message) vbs:resource_last_failure_info\n)\nor on (target, policy_id, resource_id)\n(%s)' % [f, f];
        target(withName(withFailure), '', 'A', true, true),
      ], w=12, links=[runbookLink('VBSBackupFailed')]),
      table('Uncovered disks per policy', 'Disks of each policy without any successful backup in the lookback window and no job running (vbs:policy_resources_uncovered); VBSPolicyUncovered fires 30 minutes after this exceeds 0.', 'short', [
        target('%s and %s' % [recP('vbs:policy_resources_uncovered'), scope], '', 'A', true, true),
      ], w=12, links=[runbookLink('VBSPolicyUncovered')]),

      row('Vaults (CBR)'),
      stat('Vaults nearly full', 'CBR vaults in vbs:vault_nearly_full_ratio: used / capacity above %s (vaults with capacity 0, unlimited or not reported, never count). VBSVaultNearlyFull reads the same series: warning, critical from %s, after %s. A full vault is a common cause of failed backups. Not filtered by $policy (vaults belong to targets).' % [q(c.vaultFullThreshold), q(c.vaultFullCriticalThreshold), c.vaultFullFor], 'none', [
        target('count(%s and %s) or vector(0)' % [rec('vbs:vault_nearly_full_ratio'), scope], 'nearly full', 'A', true),
      ], w=6, links=[runbookLink('VBSVaultNearlyFull')], thresholds=[{ color: 'green', value: null }, { color: 'orange', value: 1 }]),
      stat('Vaults', 'CBR vaults of the selected targets (vbs:vault_info). VBS targets have none.', 'none', [
        target('count(%s and %s) or vector(0)' % [rec('vbs:vault_info'), scope], 'vaults', 'A', true),
      ], w=6),
      stat('Vault capacity in use', 'Used bytes of all the vaults with a capacity, of their total capacity (vbs:vault_used_bytes / vbs:vault_capacity_bytes).', 'percentunit', [
        target('sum(%s and on (target, vault_id) (vbs:vault_capacity_bytes > 0) and %s)\n/\nsum((%s > 0) and %s)' % [rec('vbs:vault_used_bytes'), scope, rec('vbs:vault_capacity_bytes'), scope], 'used', 'A', true),
      ], w=6, thresholds=[{ color: 'green', value: null }, { color: 'orange', value: c.vaultFullThreshold }, { color: 'red', value: c.vaultFullCriticalThreshold }]),
      stat('Resources in vaults', 'Servers, disks and file systems held by the vaults of the selected targets (vbs:vault_resources).', 'none', [
        target('sum(%s and %s) or vector(0)' % [rec('vbs:vault_resources'), scope], 'resources', 'A', true),
      ], w=6),
      table('Vaults', "Each CBR vault: name, object type, protection type, status, used and capacity (bytes; capacity 0 means unlimited or not reported, and then no %% used), %% used (vbs:vault_used_ratio; orange above %s, red from %s, as VBSVaultNearlyFull) and the resources it holds." % [q(c.vaultFullThreshold), q(c.vaultFullCriticalThreshold)], 'bytes', [
        target(withVault('%s and %s' % [rec('vbs:vault_used_bytes'), scope]), '', 'B', true, true),
        target(withVault('%s and %s' % [rec('vbs:vault_capacity_bytes'), scope]), '', 'C', true, true),
        target(withVault('%s and %s' % [rec('vbs:vault_used_ratio'), scope]), '', 'D', true, true),
        target(withVault('%s and %s' % [rec('vbs:vault_resources'), scope]), '', 'E', true, true),
      ], h=8, links=[runbookLink('VBSVaultNearlyFull')]) {
        local col(name, title, extra=[]) = { matcher: { id: 'byName', options: name }, properties: [{ id: 'displayName', value: title }] + extra },
        fieldConfig+: { overrides: [
          col('vault_name', 'Vault'),
          col('vault_id', 'Vault ID'),
          col('object_type', 'Object type'),
          col('protect_type', 'Protection'),
          col('status', 'Status'),
          col('Value #B', 'Used'),
          col('Value #C', 'Capacity'),
          col('Value #D', '% used', [
            { id: 'unit', value: 'percentunit' },
            { id: 'decimals', value: 1 },
            { id: 'thresholds', value: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: c.vaultFullThreshold }, { color: 'red', value: c.vaultFullCriticalThreshold }] } },
            { id: 'custom.cellOptions', value: { type: 'color-background' } },
          ]),
          col('Value #E', 'Resources', [{ id: 'unit', value: 'none' }]),
        ] },
        options+: { sortBy: [{ displayName: '% used', desc: true }] },
        transformations: [
          { id: 'merge', options: {} },
          { id: 'organize', options: {
            excludeByName: { Time: true, __name__: true },
            indexByName: { target: 0, vault_name: 1, vault_id: 2, object_type: 3, protect_type: 4, status: 5, 'Value #B': 6, 'Value #C': 7, 'Value #D': 8, 'Value #E': 9 },
          } },
        ],
      },
      ts('Vault usage', 'Used / capacity per CBR vault over time (vbs:vault_used_ratio). VBSVaultNearlyFull fires %s after a vault stays above the line (%s); critical from %s.' % [c.vaultFullFor, q(c.vaultFullThreshold), q(c.vaultFullCriticalThreshold)], 'percentunit', [
        target(withVault('%s and %s' % [rec('vbs:vault_used_ratio'), scope]), '{{target}} / {{vault_id}} {{vault_name}}'),
      ], w=24, links=[runbookLink('VBSVaultNearlyFull')], thresholdLine=c.vaultFullThreshold),

      row('Running jobs and durations'),
      table('Running jobs, of the stuck threshold', "Each disk with a RUNNING/WAITING job: how long it has been going as a share of its policy's stuck threshold (vbs:policy_stuck_threshold_seconds: %s x p%d successful duration, at least %s). VBSBackupStuck fires 5 minutes after 100 %%." % [q(c.stuckFactor), std.round(c.stuckQuantile * 100), u.secondsShort(c.stuckFloorSeconds)], 'percentunit', [
        target(withName('(\n  (time() - %s)\n  / on (target, policy_id) group_left ()\n  vbs:policy_stuck_threshold_seconds\n) and %s' % [recP('vbs:resource_running_since_timestamp_seconds'), scope]), '', 'A', true, true),
      ], w=12, links=[runbookLink('VBSBackupStuck')]),
      ts('Jobs running / waiting per policy', 'RUNNING and WAITING jobs per policy over time.', 'short', [
        target('sum by (target, policy_name) (max by (target, policy_id, policy_name, status) (%s))' % rawP('vbs_policy_jobs', ['status=~"RUNNING|WAITING"']), '{{target}} / {{policy_name}}'),
      ]),
      ts('Successful backup duration (p50 / p90 / p99) per policy', 'Quantiles of the successful job durations in the lookback window. vbs_policy_window_backup_duration_seconds is a WINDOWED distribution: its buckets fall as jobs leave the window, so it is not a counter and rate()/increase() on it are meaningless. The quantiles are read from the current bucket values (histogram_quantile over max by le), never from a rate.', 's', [
        target('histogram_quantile(%s, max by (le, target, policy_name) (%s)) >= 0' % [x[0], rawP('vbs_policy_window_backup_duration_seconds_bucket')], 'p%s {{target}} / {{policy_name}}' % std.round(std.parseJson(x[0]) * 100), x[1])
        for x in [['0.5', 'A'], ['0.9', 'B'], ['0.99', 'C']]
      ]),
      ts('Average successful duration per policy', 'Sum / count of the successful durations in the lookback window (a windowed distribution: current values, no rate()).', 's', [
        target('max by (target, policy_name) (%s)\n/\nmax by (target, policy_name) (%s > 0)' % [rawP('vbs_policy_window_backup_duration_seconds_sum'), rawP('vbs_policy_window_backup_duration_seconds_count')], '{{target}} / {{policy_name}}'),
      ]),

      row('VBS API'),
      ts('API requests per second by operation and code', "The exporter's requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM), per operation and HTTP code (error = network error).", 'reqps', [
        target('sum by (target, operation, code) (rate(%s[$__rate_interval]))' % rawT('vbs_api_requests_total'), '{{target}} {{operation}} {{code}}'),
      ], w=8),
      ts('API error ratio (4xx, 5xx, network)', 'Share of API requests that failed, per operation. VBSAPIErrorRate fires when it stays above %s for 15 minutes over %s; retries may still read everything, so it inhibits nothing.' % [q(c.apiErrorRateThreshold), c.apiErrorRateWindow], 'percentunit', [
        target('(\n  sum by (target, operation) (rate(%s[$__rate_interval]))\n  or\n  0 * sum by (target, operation) (rate(%s[$__rate_interval]))\n)\n/\nsum by (target, operation) (rate(%s[$__rate_interval]))' % [rawT('vbs_api_requests_total', ['code=~"4..|5..|error"']), rawT('vbs_api_requests_total'), rawT('vbs_api_requests_total')], '{{target}} {{operation}}'),
      ], w=8, links=[runbookLink('VBSAPIErrorRate')], thresholdLine=c.apiErrorRateThreshold),
      ts('API latency (p50 / p99)', 'Latency of API requests per operation, from the vbs_api_request_duration_seconds counter histogram (a true histogram: rate() applies).', 's', [
        target('histogram_quantile(%s, sum by (le, target, operation) (rate(%s[$__rate_interval])))' % [x[0], rawT('vbs_api_request_duration_seconds_bucket')], 'p%s {{target}} {{operation}}' % std.round(std.parseJson(x[0]) * 100), x[1])
        for x in [['0.5', 'A'], ['0.99', 'B']]
      ], w=8),
      table('API requests in the selected range', 'API requests per target, operation and code over the dashboard time range.', 'short', [
        target('sum by (target, operation, code) (increase(%s[$__range]))' % rawT('vbs_api_requests_total'), '', 'A', true, true),
      ], h=6),

      row('Exporter health'),
      stat('VBS API per target (vbs_up)', '1 when the last refresh reached and authenticated to the target\'s API. 0 fires VBSTargetDown, which inhibits the target\'s backup alerts.', 'bool_yes_no', [
        target('min by (target) (%s)' % rawT('vbs_up'), '{{target}}', 'A', true),
      ], w=8, links=[runbookLink('VBSTargetDown')], thresholds=[{ color: 'red', value: null }, { color: 'green', value: 1 }]),
      stat('Exporter scrapes (up)', "Prometheus' up for the selected exporter scrape targets (jobs that exposed vbs metrics in the last day). 0 fires VBSExporterDown.", 'bool_yes_no', [
        target('max by (job, instance) (up{%s})\nand on (job, instance)\nmax by (job, instance) (last_over_time(%s[1d]))' % [u.join(jobInst), selfSeries([c.vbsSelector] + jobInst)], '{{job}} {{instance}}', 'A', true),
      ], w=8, links=[runbookLink('VBSExporterDown')], thresholds=[{ color: 'red', value: null }, { color: 'green', value: 1 }]),
      stat('Config reload', '1 when the last configuration reload succeeded. 0 fires VBSExporterConfigReloadFailed.', 'bool_yes_no', [
        target('max by (job, instance) (%s)' % raw('vbs_exporter_config_last_reload_successful'), '{{instance}}', 'A', true),
      ], w=8, links=[runbookLink('VBSExporterConfigReloadFailed')], thresholds=[{ color: 'red', value: null }, { color: 'green', value: 1 }]),
      ts('Refresh duration per target', 'How long the last refresh of each target took.', 's', [
        target('max by (target) (%s)' % rawT('vbs_refresh_duration_seconds'), '{{target}}'),
      ]),
      table('Policy refresh and backfill', "Per policy: whether the last refresh read its whole job list (vbs:policy_refresh_success; 0 for %s fires VBSPolicyRefreshFailing, which inhibits the policy's backup alerts) and whether the first walk of its history is complete (vbs:policy_backfill_complete)." % c.refreshFailingFor, 'bool_yes_no', [
        target('%s and %s' % [recP('vbs:policy_refresh_success'), scope], '', 'A', true, true),
        target('%s and %s' % [recP('vbs:policy_backfill_complete'), scope], '', 'B', true, true),
      ], w=12, links=[runbookLink('VBSPolicyRefreshFailing'), runbookLink('VBSPolicyBackfillIncomplete')]),
      table('Targets', 'Each configured target with the service it reads (vbs or cbr), its region and project (vbs_target_info; blank from an exporter without it), and whether its API answered on the last refresh (vbs_up).', 'bool_yes_no', [
        local up = 'min by (target) (%s)' % rawT('vbs_up');
        target('(\n  %s\n  * on (target) group_left (service, region, project_id)\n  max by (target, service, region, project_id) (%s)\n)\nor on (target)\n%s' % [up, rawT('vbs_target_info'), up], '', 'A', true, true),
      ], w=12, h=6, links=[runbookLink('VBSTargetDown')]),
      table('Exporter build', 'Version, revision and Go version of each selected exporter (vbs_exporter_build_info).', 'none', [
        target(raw('vbs_exporter_build_info'), '', 'A', true, true),
      ], h=4, hide=['Value', '__name__']),
    ],

    local variable(name, label, query) = {
      name: name,
      label: label,
      type: 'query',
      datasource: ds,
      definition: query,
      query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
      current: {},
      hide: 0,
      includeAll: true,
      allValue: '.*',
      multi: true,
      options: [],
      refresh: 2,
      regex: '',
      skipUrlSync: false,
      sort: 1,
    },

    'vbs-overview.json': {
      uid: c.dashboardUID,
      title: c.dashboardTitle,
      description: 'Huawei Cloud VBS disk backups as seen by vbs_exporter: job statuses, per-disk backup age against the policy schedule, failures with their reason, running and stuck jobs, durations, API and exporter health. Rendered from the vbs_exporter mixin; the panels read the same recording rules as the alerts.',
      tags: c.dashboardTags,
      editable: false,
      graphTooltip: 1,
      schemaVersion: 39,
      refresh: c.dashboardRefresh,
      timezone: c.dashboardTimezone,
      time: { from: 'now-7d', to: 'now' },
      annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
      links: [{ title: 'Runbooks (alerts/README.md)', type: 'link', url: c.runbookURLBase, targetBlank: true, icon: 'doc' }],
      templating: { list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, includeAll: false, multi: false, options: [], refresh: 1, regex: '', skipUrlSync: false },
        variable('job', 'Job', 'label_values(%s, job)' % selfSeries([c.vbsSelector])),
        variable('instance', 'Instance', 'label_values(%s, instance)' % selfSeries([c.vbsSelector, 'job=~"$job"'])),
        variable('target', 'Target', 'label_values(%s, target)' % raw('vbs_up', [c.targetSelector])),
        variable('policy', 'Policy', 'label_values(%s, policy_name)' % rawT('vbs_policy_enabled')),
      ] },
      panels: layout(panels),
    },
  },
}
