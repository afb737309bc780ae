// Alerts (group "vbs_exporter"). They read the recording rules of
// rules/rules.libsonnet; alerts/README.md has one runbook section per alert.
// Every alert's labels carry target / policy_id / resource_id where they
// apply, so that alertmanager.example.yml can inhibit backup alerts only
// while the data behind them is stale.
local u = import '../lib/utils.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local runbook(name) = u.runbook(c.runbookURLBase, name),
    local alert(name, severity, forDur, expr, summary, description, extraLabels={}) = {
      alert: name,
      expr: expr,
      'for': forDur,
      labels: { severity: severity } + extraLabels,
      annotations: {
        summary: summary,
        description: description,
        runbook_url: runbook(name),
      },
    },
    local failedStatus = 'vbs:resource_last_status{status=~"EXECUTE_FAIL|EXECUTE_TIMEOUT"}',
    // Go-template fragments (rendered by Prometheus at alert time).
    local interval = '{{ with printf "vbs:policy_expected_interval_seconds{target=%q,policy_id=%q}" $labels.target $labels.policy_id | query }}{{ . | first | value | humanizeDuration }}{{ end }}',
    // ` "db-data"` after the disk's ID when vbs_resource_info names it; nothing otherwise.
    local diskName = '{{ with printf "vbs:resource_info{target=%q,resource_id=%q}" $labels.target $labels.resource_id | query }}{{ with . | first }} "{{ .Labels.resource_name }}"{{ end }}{{ end }}',
    // ` (code X: message)` from the newest failed job, when the exporter exports it.
    local failure = '{{ with printf "vbs:resource_last_failure_info{target=%q,policy_id=%q,resource_id=%q}" $labels.target $labels.policy_id $labels.resource_id | query }}{{ with . | first }} (code {{ .Labels.code }}{{ with .Labels.message }}: {{ . }}{{ end }}){{ end }}{{ end }}',
    local diskWhere = 'disk {{ $labels.resource_id }}' + diskName + ' ({{ $labels.resource_type }}) in policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }}',
    local failed(cmp) = |||
      (
        (%(s)s == 1)
        * on (target, policy_id, resource_id) group_left ()
        (
          vbs:resource_consecutive_failures
          or on (target, policy_id, resource_id)
          (%(s)s == 1)
        )
      ) %(cmp)s %(n)s
      and on (target, policy_id) (vbs:policy_enabled == 1)
      unless on (target, policy_id) (vbs:policy_resources == 0)
    ||| % { s: failedStatus, cmp: cmp, n: u.num(c.failedCriticalCount) },
    local missed(cmp) = |||
      vbs:resource_behind_schedule_seconds
      %s on (target, policy_id, resource_id) group_left ()
      (
        vbs:resource_missed_threshold_seconds
        + on (target, policy_id) group_left ()
        vbs:policy_expected_interval_seconds
      )
    ||| % cmp,
    local missedSummary = 'VBS disk {{ $labels.resource_id }} has no backup for {{ $value | humanizeDuration }} ({{ $labels.policy_name }} on {{ $labels.target }})',
    local raw(name, parts=[]) = u.metric(name, [c.vbsSelector] + parts),
    // CBR vaults: ` "vault-prod"` after the vault's ID from vbs:vault_info,
    // and its capacity and usage in bytes (IEC units).
    local vaultName = '{{ with printf "vbs:vault_info{target=%q,vault_id=%q}" $labels.target $labels.vault_id | query }}{{ with . | first }} "{{ .Labels.vault_name }}"{{ end }}{{ end }}',
    local vaultBytes(m) = '{{ with printf "vbs:vault_%s_bytes{target=%%q,vault_id=%%q}" $labels.target $labels.vault_id | query }}{{ . | first | value | humanize1024 }}B{{ end }}' % m,
    local vaultWhere = 'CBR vault {{ $labels.vault_id }}' + vaultName + ' on target {{ $labels.target }} has used {{ $value | humanizePercentage }} of its capacity (' + vaultBytes('used') + ' of ' + vaultBytes('capacity') + ')',
    local vaultSummary = 'CBR vault {{ $labels.vault_id }} on {{ $labels.target }} is {{ $value | humanizePercentage }} full',
    local pct(x) = u.num(x * 100) + '%',
    // A vault whose usage reached its capacity is critical even when the
    // critical threshold is set above 1.
    local vaultCritical = std.min(c.vaultFullCriticalThreshold, 1),

    groups+: [{
      name: 'vbs_exporter',
      rules: [
        // Backups. Value: consecutive failures (at least 1).
        alert(
          'VBSBackupFailed', 'warning', '5m', failed('<'),
          'VBS backup of disk {{ $labels.resource_id }} failed ({{ $labels.policy_name }} on {{ $labels.target }})',
          'The newest finished backup job of ' + diskWhere + ' ended with {{ $labels.status }}' + failure + '; {{ $value }} failed job(s) in a row.',
        ),
        alert(
          'VBSBackupFailed', 'critical', '5m', failed('>='),
          'VBS backup of disk {{ $labels.resource_id }} failed {{ $value }} times in a row ({{ $labels.policy_name }} on {{ $labels.target }})',
          'The last {{ $value }} finished backup jobs of ' + diskWhere + ' all failed or timed out; the newest ended with {{ $labels.status }}' + failure + '. The disk has no fresh restore point.',
        ),
        // Value: seconds since the disk's last successful backup.
        alert(
          'VBSBackupMissed', 'warning', '10m', missed('<='), missedSummary,
          'Disk {{ $labels.resource_id }}' + diskName + ' ({{ $labels.resource_type }}) in policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }} last had a successful backup {{ $value | humanizeDuration }} ago, more than ' + u.num(c.missedFactor) + " times the policy's expected interval of " + interval + ', and no job for it is running.',
        ),
        alert(
          'VBSBackupMissed', 'critical', '10m', missed('>'), missedSummary,
          'Disk {{ $labels.resource_id }}' + diskName + ' ({{ $labels.resource_type }}) in policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }} last had a successful backup {{ $value | humanizeDuration }} ago, more than ' + u.num(c.missedFactor + 1) + " times the policy's expected interval of " + interval + ': at least two scheduled runs produced no backup.',
        ),
        // Value: seconds since the policy's newest job was created (or, for a
        // policy without any job in the window, since Prometheus first saw it).
        alert(
          'VBSPolicyNotRunning', 'critical', '10m', |||
            (
              (
                time() - vbs:policy_last_job_timestamp_seconds
                > on (target, policy_id) group_left ()
                vbs:policy_not_running_threshold_seconds
              )
              or on (target, policy_id)
              (
                (
                  time() - vbs:policy_first_seen_timestamp_seconds
                  > on (target, policy_id) group_left ()
                  vbs:policy_not_running_threshold_seconds
                )
                unless on (target, policy_id) vbs:policy_last_job_timestamp_seconds
              )
            )
            and on (target, policy_id) (vbs:policy_enabled == 1)
            unless on (target, policy_id) (vbs:policy_resources == 0)
            unless on (target, policy_id) (vbs:policy_backfill_complete == 0)
          |||,
          'VBS policy {{ $labels.policy_name }} on {{ $labels.target }} has created no backup job for {{ $value | humanizeDuration }}',
          'Backup policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }} is enabled and holds disks, but the VBS scheduler has created no job for any of them for {{ $value | humanizeDuration }}; the schedule expects one at least every ' + interval + '. Every disk of the policy is going without backups.',
        ),
        // Value: seconds the oldest RUNNING/WAITING job of the disk has been going.
        alert(
          'VBSBackupStuck', 'warning', '5m', |||
            time() - vbs:resource_running_since_timestamp_seconds
            > on (target, policy_id) group_left ()
            vbs:policy_stuck_threshold_seconds
            unless on (target, policy_id) (vbs:policy_resources == 0)
          |||,
          'VBS backup of disk {{ $labels.resource_id }} running for {{ $value | humanizeDuration }} ({{ $labels.policy_name }} on {{ $labels.target }})',
          'A backup job of ' + diskWhere + ' has been RUNNING/WAITING for {{ $value | humanizeDuration }}, longer than the stuck threshold of {{ with printf "vbs:policy_stuck_threshold_seconds{target=%q,policy_id=%q}" $labels.target $labels.policy_id | query }}{{ . | first | value | humanizeDuration }}{{ end }} (' + u.num(c.stuckFactor) + " x the policy's p" + std.round(c.stuckQuantile * 100) + ' successful duration, at least ' + u.secondsShort(c.stuckFloorSeconds) + ').',
        ),
        // Value: number of disks without a success in the lookback window.
        alert(
          'VBSPolicyUncovered', 'warning', '30m', |||
            vbs:policy_resources_uncovered > 0
            and on (target, policy_id) (vbs:policy_enabled == 1)
            and on (target, policy_id) vbs:policy_last_job_timestamp_seconds
            unless on (target, policy_id) (vbs:policy_backfill_complete == 0)
          |||,
          'VBS policy {{ $labels.policy_name }} on {{ $labels.target }} has {{ $value }} disk(s) without any successful backup',
          'Backup policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }} holds {{ with printf "vbs:policy_resources{target=%q,policy_id=%q}" $labels.target $labels.policy_id | query }}{{ . | first | value }}{{ end }} disk(s), but {{ $value }} of them have no successful backup in the exporter\'s lookback window and no job running.',
        ),
        // CBR vaults. Value: used / capacity (vaults with capacity 0 never
        // count). Read from vbs:vault_nearly_full_ratio, as the dashboard.
        alert(
          'VBSVaultNearlyFull', 'warning', c.vaultFullFor, |||
            vbs:vault_nearly_full_ratio < %s
          ||| % u.num(vaultCritical), vaultSummary,
          vaultWhere + ', more than ' + pct(c.vaultFullThreshold) + '. A full vault is a common cause of failed backups: CBR refuses new backups into a vault whose used capacity exceeds its size (BackupService.6114), so VBSBackupFailed follows for every resource in it. Expand the vault, enable auto-expansion, or shorten retention.',
        ),
        alert(
          'VBSVaultNearlyFull', 'critical', c.vaultFullFor, |||
            vbs:vault_nearly_full_ratio >= %s
          ||| % u.num(vaultCritical), vaultSummary,
          vaultWhere + ', at least ' + pct(vaultCritical) + '. A full vault is a common cause of failed backups: CBR refuses new backups into a vault whose used capacity exceeds its size (BackupService.6114), so the next runs of every resource in it fail. Expand the vault now, or free space by deleting old restore points.',
        ),

        // The monitoring itself: never silently blind.
        // A scrape of the exporter fails. The first branch recognises the
        // exporter's scrape targets by what they exposed in the last day and
        // names every VBS target they served; the second catches an exporter
        // that never worked, by job name.
        alert(
          'VBSExporterDown', 'critical', '5m', |||
            (
              max by (job, instance, target) (
                label_replace(last_over_time(%(up)s[1d]), "target", "$1", "exported_target", "(.+)")
              )
              * on (job, instance) group_left ()
              (up == 0)
            )
            or on (job, instance)
            (%(down)s == 0)
          ||| % { up: raw('vbs_up', [c.targetSelector]), down: u.metric('up', [c.exporterDownSelector]) },
          'Prometheus cannot scrape vbs_exporter at {{ $labels.instance }}{{ with $labels.target }} (target {{ . }}){{ end }}',
          'Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) have failed for 5 minutes, so {{ with $labels.target }}VBS target {{ . }}{{ else }}every VBS target it serves{{ end }} (policy: all, disk: all) is not monitored: no backup alert can fire for it.',
          { reason: 'scrape_failed' },
        ),
        alert(
          'VBSExporterDown', 'critical', '15m',
          'absent(%s) and absent(%s)' % [raw('vbs_up'), raw('vbs_exporter_build_info')],
          'No vbs_exporter metrics in Prometheus',
          'Prometheus has no vbs_up and no vbs_exporter_build_info series at all for 15 minutes (target: all, policy: all, disk: all): the exporter is not scraped (scrape config, ServiceMonitor selector, network policy) or not running. No VBS backup is monitored.',
          { reason: 'no_metrics' },
        ),
        // The exporter cannot read the VBS API of a target: every value of
        // the target is stale. Alertmanager inhibits the target's backup alerts.
        alert(
          'VBSTargetDown', 'critical', '5m', 'vbs:up == 0',
          'vbs_exporter cannot reach or authenticate to the VBS API of {{ $labels.target }}',
          'vbs_up is 0 for target {{ $labels.target }} (policy: all, disk: all) for 5 minutes: the API is unreachable or rejects the credentials. The exporter serves the last known values; backup alerts for this target are inhibited in Alertmanager.',
        ),
        // One policy's job list cannot be read: its values are stale.
        // Alertmanager inhibits that policy's backup alerts.
        alert(
          'VBSPolicyRefreshFailing', 'warning', c.refreshFailingFor, |||
            (vbs:policy_refresh_success == 0)
            unless on (target, policy_id) (vbs:policy_backfill_complete == 0)
            unless on (target) (vbs:up == 0)
          |||,
          'vbs_exporter cannot read the jobs of policy {{ $labels.policy_name }} on {{ $labels.target }}',
          'vbs_policy_refresh_success is 0 for policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }} (disk: all) for ' + u.durationWords(c.refreshFailingFor) + ': its job list could not be read completely. Its values are the last known ones and may be stale; its backup alerts are inhibited in Alertmanager.',
        ),
        // The first walk of a policy's history has not finished. Not an API
        // error and no inhibition source: the rules themselves hold back the
        // policy's missed, not-running and uncovered alerts meanwhile.
        alert(
          'VBSPolicyBackfillIncomplete', 'warning', c.backfillIncompleteFor, |||
            (vbs:policy_backfill_complete == 0)
            unless on (target) (vbs:up == 0)
          |||,
          'vbs_exporter has not finished reading the history of policy {{ $labels.policy_name }} on {{ $labels.target }} for ' + c.backfillIncompleteFor,
          'vbs_policy_backfill_complete is 0 for policy {{ $labels.policy_name }} ({{ $labels.policy_id }}) on target {{ $labels.target }} (disk: all) for ' + u.durationWords(c.backfillIncompleteFor) + '. While the first walk of its job history is incomplete the missed, not-running and uncovered alerts for this policy are held back.',
        ),
        // Many API requests fail, though retries may still read everything:
        // the data can be fresh, so this inhibits nothing.
        alert(
          'VBSAPIErrorRate', 'warning', '15m', |||
            (
              sum by (target, operation) (
                label_replace(rate(%(errors)s[%(w)s]), "target", "$1", "exported_target", "(.+)")
              )
              /
              sum by (target, operation) (
                label_replace(rate(%(all)s[%(w)s]), "target", "$1", "exported_target", "(.+)")
              )
            ) > %(t)s
            unless on (target) (vbs:up == 0)
          ||| % {
            errors: raw('vbs_api_requests_total', ['code=~"4..|5..|error"', c.targetSelector]),
            all: raw('vbs_api_requests_total', [c.targetSelector]),
            w: c.apiErrorRateWindow,
            t: u.num(c.apiErrorRateThreshold),
          },
          '{{ $value | humanizePercentage }} of VBS API {{ $labels.operation }} requests for {{ $labels.target }} fail',
          "{{ $value | humanizePercentage }} of the exporter's {{ $labels.operation }} requests to the VBS API of target {{ $labels.target }} (policy: all, disk: all) returned 4xx/5xx or a network error over the last " + u.durationWords(c.apiErrorRateWindow) + '. Retries may still have read everything: vbs_up and vbs_policy_refresh_success say whether the data is fresh.',
        ),
        alert(
          'VBSExporterConfigReloadFailed', 'warning', '10m',
          'max by (job, instance) (%s) == 0' % raw('vbs_exporter_config_last_reload_successful'),
          'vbs_exporter {{ $labels.instance }} failed to reload its configuration',
          'The last configuration reload of vbs_exporter {{ $labels.instance }} (job {{ $labels.job }}; target: all, policy: all, disk: all) failed; it keeps running with the previous configuration.',
        ),
      ],
    }],
  },
}
