// Package collector turns the snapshots of the job store (package
// internal/store) into Prometheus metrics, and counts the exporter's own
// requests to the API (APIMetrics).
package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
)

var (
	targetLabels   = []string{"target"}
	policyLabels   = []string{"target", "policy_id", "policy_name"}
	resourceLabels = []string{"target", "policy_id", "policy_name", "resource_id", "resource_type"}

	upDesc = prometheus.NewDesc("vbs_up",
		"1 if the target's API was reachable and authenticated on this refresh (its policy list was read).", targetLabels, nil)
	authBackoffDesc = prometheus.NewDesc("vbs_auth_backoff_until_timestamp_seconds",
		"End of the back-off after the API refused the target's credentials (Unix seconds): no request is sent before then. 0 when no back-off is under way.", targetLabels, nil)
	refreshDurationDesc = prometheus.NewDesc("vbs_refresh_duration_seconds",
		"Time this scrape spent refreshing the target.", targetLabels, nil)
	policyEnabledDesc = prometheus.NewDesc("vbs_policy_enabled",
		"1 if the policy's schedule status is ON.", policyLabels, nil)
	policyResourcesDesc = prometheus.NewDesc("vbs_policy_resources",
		"Number of resources the policy backs up (VBS: disks bound to it, policy_resource_count; CBR: resources of the vaults it is applied to).", policyLabels, nil)
	policyIntervalDesc = prometheus.NewDesc("vbs_policy_expected_interval_seconds",
		"Longest gap between two consecutive scheduled runs of the policy.", policyLabels, nil)
	policyRefreshDesc = prometheus.NewDesc("vbs_policy_refresh_success",
		"1 if this policy's jobs were read completely on this refresh; 0 keeps the last known values of its other metrics.", policyLabels, nil)
	policyBackfillDesc = prometheus.NewDesc("vbs_policy_backfill_complete",
		"1 once the policy's whole lookback window has been read; 0 while the first walk of a long history is still being read over several scrapes.", policyLabels, nil)
	policyJobsDesc = prometheus.NewDesc("vbs_policy_jobs",
		"Jobs of the policy created within the lookback window, by status (UNKNOWN counts statuses the API did not document).",
		append(policyLabels[:3:3], "status"), nil)
	policyLastJobDesc = prometheus.NewDesc("vbs_policy_last_job_timestamp_seconds",
		"Creation time of the policy's newest job (Unix seconds): when the scheduler last ran.", policyLabels, nil)
	policyLastRunResourcesDesc = prometheus.NewDesc("vbs_policy_last_run_resources",
		"Distinct disks that the policy's most recent run (its jobs created within 30 minutes of the newest job) backed up or tried to (RUNNING, WAITING, EXECUTE_SUCCESS, EXECUTE_FAIL, EXECUTE_TIMEOUT). Fewer than vbs_policy_resources: the run left bound disks out.", policyLabels, nil)
	policyCachedJobsDesc = prometheus.NewDesc("vbs_policy_cached_jobs",
		"Jobs of the policy held in the exporter's cache.", policyLabels, nil)
	policyDurationDesc = prometheus.NewDesc("vbs_policy_window_backup_duration_seconds",
		"Durations of the policy's successful jobs in the lookback window (finished_at - created_at), as buckets of the window's current content: not a counter, the buckets fall as jobs leave the window, so read current values with histogram_quantile, e.g. histogram_quantile(0.9, vbs_policy_window_backup_duration_seconds_bucket), never rate() or increase().",
		policyLabels, nil)
	resourceLastSuccessDesc = prometheus.NewDesc("vbs_resource_last_success_timestamp_seconds",
		"finished_at of the disk's newest successful backup job in the window (Unix seconds).", resourceLabels, nil)
	resourceLastSuccessDurationDesc = prometheus.NewDesc("vbs_resource_last_success_duration_seconds",
		"Duration of the disk's newest successful backup job.", resourceLabels, nil)
	resourceLastStatusDesc = prometheus.NewDesc("vbs_resource_last_status",
		"Status of the disk's newest finished job: 1 for its status, 0 for the others.",
		append(resourceLabels[:5:5], "status"), nil)
	resourceFailuresDesc = prometheus.NewDesc("vbs_resource_consecutive_failures",
		"Newest finished jobs of the disk in a row that failed or timed out.", resourceLabels, nil)
	resourceRunningDesc = prometheus.NewDesc("vbs_resource_running_since_timestamp_seconds",
		"Creation time of the disk's oldest RUNNING or WAITING job (Unix seconds); absent when none.", resourceLabels, nil)

	resourceLastFailureInfoDesc = prometheus.NewDesc("vbs_resource_last_failure_info",
		"Always 1: code and message are the vendor's result code and message of the disk's newest failed (EXECUTE_FAIL) or timed-out (EXECUTE_TIMEOUT) job in the lookback window, empty when the job had none; the message is cleaned of secrets and control characters and cut to 256 bytes. One series per disk; a later success does not remove it (see vbs_resource_last_status for the current state).",
		append(resourceLabels[:5:5], "code", "message"), nil)
	resourceLastFailureDesc = prometheus.NewDesc("vbs_resource_last_failure_timestamp_seconds",
		"finished_at of the disk's newest failed or timed-out job in the window (created_at when it has none), Unix seconds.", resourceLabels, nil)
	resourceInfoDesc = prometheus.NewDesc("vbs_resource_info",
		"Always 1: the name of a disk seen in the target's jobs, where it is known (for VBS from the EVS volume list when resource_names is on, for CBR from the jobs).",
		[]string{"target", "resource_id", "resource_type", "resource_name"}, nil)

	targetInfoDesc = prometheus.NewDesc("vbs_target_info",
		"Always 1: the backup service (vbs or cbr), region and project of the target.",
		[]string{"target", "service", "region", "project_id"}, nil)
	vaultInfoDesc = prometheus.NewDesc("vbs_vault_info",
		"Always 1: a CBR vault of the target with its name, the type of resources it holds (object_type), protect_type (backup, replication) and status.",
		[]string{"target", "vault_id", "vault_name", "object_type", "protect_type", "status"}, nil)
	vaultCapacityDesc = prometheus.NewDesc("vbs_vault_capacity_bytes",
		"Capacity of the CBR vault (billing.size, GiB in the API), in bytes.", []string{"target", "vault_id"}, nil)
	vaultUsedDesc = prometheus.NewDesc("vbs_vault_used_bytes",
		"Space the CBR vault's backups use (billing.used, MiB in the API), in bytes.", []string{"target", "vault_id"}, nil)
	vaultResourcesDesc = prometheus.NewDesc("vbs_vault_resources",
		"Number of resources bound to the CBR vault.", []string{"target", "vault_id"}, nil)

	allDescs = []*prometheus.Desc{
		targetInfoDesc, vaultInfoDesc, vaultCapacityDesc, vaultUsedDesc, vaultResourcesDesc,
		upDesc, authBackoffDesc, refreshDurationDesc, policyEnabledDesc, policyResourcesDesc, policyIntervalDesc,
		policyRefreshDesc, policyBackfillDesc, policyJobsDesc, policyLastJobDesc, policyLastRunResourcesDesc, policyCachedJobsDesc,
		policyDurationDesc, resourceLastSuccessDesc, resourceLastSuccessDurationDesc,
		resourceLastStatusDesc, resourceFailuresDesc, resourceRunningDesc,
		resourceLastFailureInfoDesc, resourceLastFailureDesc, resourceInfoDesc,
	}
)

// Statuses in the order of the status label of vbs_policy_jobs and of
// vbs_resource_last_status (backup.Status owns both).
var (
	jobStatuses      = backup.Statuses()
	finishedStatuses = backup.FinishedStatuses()
)

// Collect sends the metrics of the snapshot s. No sample carries a
// timestamp.
func Collect(s *store.Snapshot, ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	gauge(upDesc, boolFloat(s.Up), s.Target)
	if s.Service != "" {
		gauge(targetInfoDesc, 1, s.Target, s.Service, s.Region, s.ProjectID)
	}
	for i := range s.Vaults {
		v := &s.Vaults[i]
		gauge(vaultInfoDesc, 1, s.Target, v.ID, v.Name, v.ObjectType, v.ProtectType, v.Status)
		gauge(vaultCapacityDesc, float64(v.CapacityBytes), s.Target, v.ID)
		gauge(vaultUsedDesc, float64(v.UsedBytes), s.Target, v.ID)
		gauge(vaultResourcesDesc, float64(len(v.Resources)), s.Target, v.ID)
	}
	if s.HasAuthBackoff {
		var until float64
		if !s.AuthBackoffUntil.IsZero() {
			until = float64(s.AuthBackoffUntil.UnixMilli()) / 1000
		}
		gauge(authBackoffDesc, until, s.Target)
	}
	gauge(refreshDurationDesc, s.Duration.Seconds(), s.Target)
	for i := range s.Policies {
		p := &s.Policies[i]
		pl := []string{s.Target, p.Policy.ID, p.Policy.Name}
		if !p.Manual {
			gauge(policyRefreshDesc, boolFloat(p.RefreshSuccess), pl...)
		}
		if !p.Known {
			continue
		}
		if !p.Manual {
			// The pseudo-policy of manual backups has no schedule: none of
			// the families the alert rules select on.
			gauge(policyEnabledDesc, boolFloat(p.Policy.Enabled), pl...)
			gauge(policyResourcesDesc, float64(p.Policy.ResourceCount), pl...)
			gauge(policyIntervalDesc, p.Policy.ExpectedInterval().Seconds(), pl...)
			gauge(policyBackfillDesc, boolFloat(p.BackfillComplete), pl...)
		}
		gauge(policyCachedJobsDesc, float64(p.CachedJobs), pl...)
		if !p.HasData {
			continue
		}
		for _, status := range jobStatuses {
			gauge(policyJobsDesc, float64(p.Jobs(status)), s.Target, p.Policy.ID, p.Policy.Name, status.String())
		}
		if p.HasLastJob {
			gauge(policyLastJobDesc, msToSeconds(p.LastJob), pl...)
			if !p.Manual {
				gauge(policyLastRunResourcesDesc, float64(p.LastRunResources()), pl...)
			}
		}
		if !p.Manual {
			counts, count, sum := p.Durations()
			bounds := store.DurationBuckets()
			buckets := make(map[float64]uint64, len(bounds))
			for bi, ub := range bounds {
				buckets[ub] = counts[bi]
			}
			ch <- prometheus.MustNewConstHistogram(policyDurationDesc, count, sum, buckets, pl...)
		}

		resources := p.Resources()
		for ri := range resources {
			r := &resources[ri]
			rl := []string{s.Target, p.Policy.ID, p.Policy.Name, r.ID(), r.Type()}
			if at, d, ok := r.LastSuccess(); ok {
				gauge(resourceLastSuccessDesc, msToSeconds(at), rl...)
				gauge(resourceLastSuccessDurationDesc, float64(d)/1000, rl...)
			}
			if last := r.LastFinished(); last >= 0 {
				for fi, status := range finishedStatuses {
					v := 0.0
					if fi == last {
						v = 1
					}
					gauge(resourceLastStatusDesc, v, s.Target, p.Policy.ID, p.Policy.Name, r.ID(), r.Type(), status.String())
				}
			}
			gauge(resourceFailuresDesc, float64(r.ConsecutiveFailures()), rl...)
			if rs := r.RunningSince(); rs != 0 {
				gauge(resourceRunningDesc, msToSeconds(rs), rl...)
			}
			if code, message, at, ok := r.LastFailure(); ok {
				gauge(resourceLastFailureInfoDesc, 1, s.Target, p.Policy.ID, p.Policy.Name, r.ID(), r.Type(), code, message)
				gauge(resourceLastFailureDesc, msToSeconds(at), rl...)
			}
		}
	}
	s.NamedResources(func(id, typ, name string) {
		gauge(resourceInfoDesc, 1, s.Target, id, typ, name)
	})
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// msToSeconds converts Unix milliseconds to Unix seconds with milliseconds.
// Dividing the exact integer gives the float nearest to the decimal value.
func msToSeconds(ms int64) float64 { return float64(ms) / 1000 }

// Describe sends the descriptors of every family Collect sends.
func Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}
