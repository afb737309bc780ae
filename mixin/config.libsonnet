// The knobs of the vbs_exporter mixin. Override them in your own jsonnet:
//
//   (import 'vbs_exporter/mixin/mixin.libsonnet') + {
//     _config+:: { vbsSelector: 'job="vbs"', runbookURLBase: 'https://wiki.example.com/vbs' },
//   }
//
// The defaults render exactly the committed alerts/vbs_exporter.rules.yml,
// dashboards/vbs-overview.json and deploy/kubernetes/prometheusrule.yaml.
{
  _config+:: {
    // Label matchers (without braces) added to every vbs_* series the rules
    // and the dashboard read, e.g. 'job="vbs"' or 'job=~"vbs|vbs-probe"'.
    // Empty by default: the rules recognise the exporter by its metric
    // names, whatever the scrape job is called.
    vbsSelector: '',
    // Label matchers on the exporter's `target` label (VBS accounts/regions),
    // e.g. 'target!~"lab-.*"' to leave lab targets unmonitored. Applied to
    // the series that carry `target`. Empty: every target.
    targetSelector: '',
    // Selects the `up` series of an exporter that never exposed anything
    // (second branch of VBSExporterDown), by job name.
    exporterDownSelector: 'job=~"(?i).*vbs.*"',

    // VBSBackupMissed: a disk is behind schedule when its last success is
    // older than missedFactor expected intervals (warning), critical one
    // interval later.
    missedFactor: 1.5,
    // VBSPolicyNotRunning: the scheduler is late when the newest job is older
    // than the expected interval plus this margin (refresh lag, one DST shift).
    notRunningMarginSeconds: 7200,
    // VBSBackupStuck: a job is stuck when it runs longer than stuckFactor x
    // the policy's stuckQuantile successful duration, and never before
    // stuckFloorSeconds.
    stuckFactor: 3,
    stuckQuantile: 0.9,
    stuckFloorSeconds: 7200,
    // VBSBackupFailed turns critical at this many consecutive failures.
    failedCriticalCount: 3,
    // VBSAPIErrorRate: share of failing API requests over apiErrorRateWindow.
    apiErrorRateThreshold: 0.1,
    apiErrorRateWindow: '10m',
    // How long a policy's refresh must fail before VBSPolicyRefreshFailing
    // fires (Prometheus duration: s, m or h).
    refreshFailingFor: '15m',
    // How long the first walk of a policy's history may take before
    // VBSPolicyBackfillIncomplete fires.
    backfillIncompleteFor: '1h',
    // VBSVaultNearlyFull (CBR vaults): used / capacity above
    // vaultFullThreshold is a warning, at or above vaultFullCriticalThreshold
    // critical (1 would mean "only when full"). A vault with capacity 0
    // (unlimited or unknown) never counts.
    vaultFullThreshold: 0.9,
    vaultFullCriticalThreshold: 0.98,
    vaultFullFor: '15m',

    // Base of every runbook link; the alert's anchor is appended as
    // "#<alertname in lower case>".
    runbookURLBase: 'https://github.com/vbs-exporter/vbs_exporter/blob/main/alerts/README.md',

    // Dashboard.
    dashboardUID: 'vbs-overview',
    dashboardTitle: 'VBS backups overview',
    dashboardTags: ['vbs', 'backup', 'huaweicloud'],
    dashboardRefresh: '1m',
    dashboardTimezone: 'browser',
  },
}
