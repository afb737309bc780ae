// Recording rules (group "vbs_exporter.rules"): normalised copies of the
// exporter's series, the schedule-aware thresholds, and each disk's
// "behind schedule" state. The alerts and the dashboard read these, so both
// agree on what is late, stuck or uncovered.
//
// Normalisation (why the alerts never read raw vbs_* series):
//   1. label_replace(..., "target", "$1", "exported_target", "(.+)") restores
//      the exporter's `target` label when Prometheus renamed it to
//      `exported_target` (honor_labels: false and a scrape config that sets its
//      own `target` label, e.g. in /probe relabelling).
//   2. max/min by (<the exporter's own labels>) drops `job`, `instance` and
//      whatever the scrape config or the Prometheus Operator added, and
//      collapses the duplicates of a /metrics + /probe double scrape.
// Every join then matches only on the exporter's labels, never on
// job/instance. Time-stamps <= 0 and an expected interval <= 0 (unknown
// schedule) are treated as absent.
//
// Two rules refer to their own previous value
// (vbs:policy_first_seen_timestamp_seconds, vbs:policy_resources_at_last_run):
// the evaluation interval must stay below 5 minutes.
local u = import '../lib/utils.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    // A raw exporter series with the configured selectors.
    local raw(name) = u.metric(name, [c.vbsSelector, c.targetSelector]),
    local norm(agg, by, name, tail='') = {
      expr: |||
        %(agg)s by (%(by)s) (
          label_replace(%(m)s, "target", "$1", "exported_target", "(.+)")
        )%(tail)s
      ||| % { agg: agg, by: by, m: raw(name), tail: tail },
    },
    local policy = 'target, policy_id, policy_name',
    local disk = 'target, policy_id, policy_name, resource_id, resource_type',
    local v = {
      missedFactor: u.num(c.missedFactor),
      notRunningMargin: u.num(c.notRunningMarginSeconds),
      stuckFactor: u.num(c.stuckFactor),
      stuckFloor: u.num(c.stuckFloorSeconds),
    },

    groups+: [{
      name: 'vbs_exporter.rules',
      rules: [
        // Normalised copies of the exporter's series.
        { record: 'vbs:up' } + norm('min', 'target', 'vbs_up'),
        { record: 'vbs:policy_enabled' } + norm('max', policy, 'vbs_policy_enabled'),
        { record: 'vbs:policy_resources' } + norm('max', policy, 'vbs_policy_resources'),
        { record: 'vbs:policy_expected_interval_seconds' } + norm('max', policy, 'vbs_policy_expected_interval_seconds', ' > 0'),
        // Distinct disks that the policy's most recent run (its jobs created
        // within 30 minutes of the newest job) backed up or tried to.
        { record: 'vbs:policy_last_run_resources' } + norm('max', policy, 'vbs_policy_last_run_resources'),
        { record: 'vbs:policy_refresh_success' } + norm('min', policy, 'vbs_policy_refresh_success'),
        // Absent when the exporter does not expose it: then every policy
        // counts as complete (the alerts use "unless ... == 0").
        { record: 'vbs:policy_backfill_complete' } + norm('min', policy, 'vbs_policy_backfill_complete'),
        { record: 'vbs:policy_last_job_timestamp_seconds' } + norm('max', policy, 'vbs_policy_last_job_timestamp_seconds', ' > 0'),
        // p90 of the successful durations in the window. The histogram is
        // WINDOWED (its buckets fall as jobs leave the lookback window): read
        // the current bucket values, never rate(). NaN for a policy without
        // successes is dropped by ">= 0".
        {
          record: 'vbs:policy_window_backup_duration_seconds:p%d' % std.round(c.stuckQuantile * 100),
          expr: |||
            histogram_quantile(%(q)s,
              max by (le, target, policy_id, policy_name) (
                label_replace(%(m)s, "target", "$1", "exported_target", "(.+)")
              )
            ) >= 0
          ||| % { q: u.num(c.stuckQuantile), m: raw('vbs_policy_window_backup_duration_seconds_bucket') },
        },
        { record: 'vbs:resource_last_success_timestamp_seconds' } + norm('max', disk, 'vbs_resource_last_success_timestamp_seconds', ' > 0'),
        { record: 'vbs:resource_last_status' } + norm('max', disk + ', status', 'vbs_resource_last_status'),
        { record: 'vbs:resource_consecutive_failures' } + norm('max', disk, 'vbs_resource_consecutive_failures'),
        { record: 'vbs:resource_running_since_timestamp_seconds' } + norm('min', disk, 'vbs_resource_running_since_timestamp_seconds', ' > 0'),
        // The newest failed job's code and (truncated) message per disk, and
        // the disk's name where the exporter knows it: read by the alert
        // descriptions (query) and the dashboard.
        { record: 'vbs:resource_last_failure_info' } + norm('max', disk + ', code, message', 'vbs_resource_last_failure_info'),
        { record: 'vbs:resource_info' } + norm('max', 'target, resource_id, resource_type, resource_name', 'vbs_resource_info'),
        // Which service (vbs, cbr), region and project each target reads.
        { record: 'vbs:target_info' } + norm('max', 'target, service, region, project_id', 'vbs_target_info'),
        // CBR vaults: name, kind and status (info), capacity and usage in
        // bytes, resources held. A capacity of 0 (unlimited or not reported)
        // is kept here and left out of the ratio below.
        { record: 'vbs:vault_info' } + norm('max', 'target, vault_id, vault_name, object_type, protect_type, status', 'vbs_vault_info'),
        { record: 'vbs:vault_capacity_bytes' } + norm('max', 'target, vault_id', 'vbs_vault_capacity_bytes'),
        { record: 'vbs:vault_used_bytes' } + norm('max', 'target, vault_id', 'vbs_vault_used_bytes'),
        { record: 'vbs:vault_resources' } + norm('max', 'target, vault_id', 'vbs_vault_resources'),

        // Schedule-aware thresholds, per policy (seconds).
        // A disk is missed when its last success is older than missedFactor
        // expected intervals (the longest gap between two scheduled runs).
        {
          record: 'vbs:policy_missed_threshold_seconds',
          expr: '%(missedFactor)s * vbs:policy_expected_interval_seconds' % v,
        },
        // Per disk: the policy's threshold plus one interval per consecutive
        // failure. A failing disk is VBSBackupFailed's business; it only
        // counts as missed when no new job ran after its last failure either.
        {
          record: 'vbs:resource_missed_threshold_seconds',
          expr: |||
            (
              vbs:resource_consecutive_failures
              * on (target, policy_id) group_left ()
              vbs:policy_expected_interval_seconds
              + on (target, policy_id) group_left ()
              vbs:policy_missed_threshold_seconds
            )
            or on (target, policy_id, resource_id)
            (
              0 * vbs:resource_last_success_timestamp_seconds
              + on (target, policy_id) group_left ()
              vbs:policy_missed_threshold_seconds
            )
          |||,
        },
        // The scheduler is late when the newest job is older than the
        // expected interval plus the margin.
        {
          record: 'vbs:policy_not_running_threshold_seconds',
          expr: 'vbs:policy_expected_interval_seconds + %(notRunningMargin)s' % v,
        },
        // A job is stuck when it runs longer than stuckFactor x the policy's
        // p90 successful duration, and never before the floor.
        {
          record: 'vbs:policy_stuck_threshold_seconds',
          expr: |||
            (%(stuckFactor)s * vbs:policy_window_backup_duration_seconds:p%(q)d > %(stuckFloor)s)
            or on (target, policy_id)
            (0 * vbs:policy_enabled + %(stuckFloor)s)
          ||| % (v { q: std.round(c.stuckQuantile * 100) }),
        },

        // Bookkeeping for the "new policy" and "new disk" cases.
        // When Prometheus first saw the policy (self-referencing: keeps its
        // own value while the policy is exposed; restarts at "now" after a
        // gap, which only delays VBSPolicyNotRunning for a policy without
        // any job).
        {
          record: 'vbs:policy_first_seen_timestamp_seconds',
          expr: |||
            (
              0 * vbs:policy_enabled
              + on (target, policy_id) group_left ()
              max by (target, policy_id) (vbs:policy_first_seen_timestamp_seconds)
            )
            or on (target, policy_id)
            (0 * vbs:policy_enabled + time())
          |||,
        },
        // policy_resource_count as it was when the newest job was created: a
        // disk attached after the last run is not "uncovered" until the next
        // run had a chance to back it up.
        {
          record: 'vbs:policy_resources_at_last_run',
          expr: |||
            (
              (
                0 * vbs:policy_resources
                + on (target, policy_id) group_left ()
                max by (target, policy_id) (vbs:policy_resources_at_last_run)
              )
              unless on (target, policy_id)
              (changes(vbs:policy_last_job_timestamp_seconds[5m]) > 0)
            )
            or on (target, policy_id)
            vbs:policy_resources
          |||,
        },
        // Disks that are backed up or being backed up: a success in the
        // window, or a job RUNNING/WAITING now.
        {
          record: 'vbs:policy_resources_covered',
          expr: |||
            count by (target, policy_id, policy_name) (
              vbs:resource_last_success_timestamp_seconds
              or on (target, policy_id, resource_id)
              vbs:resource_running_since_timestamp_seconds
            )
            or on (target, policy_id)
            (0 * vbs:policy_resources)
          |||,
        },
        // min(resources now, resources at the last run) - covered, at least 0.
        {
          record: 'vbs:policy_resources_uncovered',
          expr: |||
            clamp_min(
              (
                (
                  vbs:policy_resources_at_last_run
                  < on (target, policy_id) group_left ()
                  vbs:policy_resources
                )
                or on (target, policy_id)
                vbs:policy_resources
              )
              - on (target, policy_id) group_left ()
              vbs:policy_resources_covered,
              0
            )
          |||,
        },
        // Disks on schedule: success within their threshold, or running.
        {
          record: 'vbs:policy_resources_on_schedule',
          expr: |||
            count by (target, policy_id, policy_name) (
              (
                time() - vbs:resource_last_success_timestamp_seconds
                <= on (target, policy_id, resource_id) group_left ()
                vbs:resource_missed_threshold_seconds
              )
              or on (target, policy_id, resource_id)
              vbs:resource_running_since_timestamp_seconds
            )
          |||,
        },
        // 1 for a policy where a disk without a recent backup can only be
        // one that was unbound from it (its history stays in the lookback
        // window): the policy holds no disk at all, or the disks on schedule
        // account for all the disks it holds.
        {
          record: 'vbs:policy_stale_disks_unbound',
          expr: |||
            (0 * (vbs:policy_resources == 0) + 1)
            or on (target, policy_id)
            (
              0 * (
                vbs:policy_resources_on_schedule
                >= on (target, policy_id) group_left ()
                vbs:policy_resources
              ) + 1
            )
          |||,
        },
        // 1 for a policy whose most recent run backed up (or tried to) at
        // least as many disks as the policy holds, and ran within the missed
        // threshold: a stale disk whose newest finished job did not fail was
        // not in it, so it was unbound.
        {
          record: 'vbs:policy_last_run_complete',
          expr: |||
            0 * (
              (
                vbs:policy_last_run_resources
                >= on (target, policy_id) group_left ()
                vbs:policy_resources
              )
              unless on (target, policy_id)
              (
                time() - vbs:policy_last_job_timestamp_seconds
                > on (target, policy_id) group_left ()
                vbs:policy_missed_threshold_seconds
              )
            ) + 1
          |||,
        },
        // Share of each vault's capacity in use; vaults with capacity 0 have
        // none (no division by zero, never "full").
        {
          record: 'vbs:vault_used_ratio',
          expr: |||
            vbs:vault_used_bytes
            / on (target, vault_id)
            (vbs:vault_capacity_bytes > 0)
          |||,
        },
        // Each vault above the vaultFullThreshold, valued in its used ratio.
        // VBSVaultNearlyFull (warning below vaultFullCriticalThreshold,
        // critical at or above it) and the dashboard's "Vaults nearly full"
        // read exactly this series.
        {
          record: 'vbs:vault_nearly_full_ratio',
          expr: 'vbs:vault_used_ratio > %s' % u.num(c.vaultFullThreshold),
        },
        // Each disk behind schedule, valued in seconds since its last
        // success: older than its missed threshold, policy enabled, no job
        // running, history complete, and not a disk that was unbound from its
        // policy. VBSBackupMissed (warning below threshold + 1 interval,
        // critical above) and the dashboard's "Disks behind schedule" read
        // exactly this series.
        {
          record: 'vbs:resource_behind_schedule_seconds',
          expr: |||
            (
              time() - vbs:resource_last_success_timestamp_seconds
              > on (target, policy_id, resource_id) group_left ()
              vbs:resource_missed_threshold_seconds
            )
            and on (target, policy_id) (vbs:policy_enabled == 1)
            unless on (target, policy_id, resource_id) vbs:resource_running_since_timestamp_seconds
            unless on (target, policy_id) (vbs:policy_backfill_complete == 0)
            unless on (target, policy_id) vbs:policy_stale_disks_unbound
            unless on (target, policy_id, resource_id)
            (
              (vbs:resource_consecutive_failures == 0)
              and on (target, policy_id) vbs:policy_last_run_complete
            )
          |||,
        },
      ],
    }],
  },
}
