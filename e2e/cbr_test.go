package e2e

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
)

// The planted CBR account: a daily policy over one vault of two disks,
// whose newest run failed on one of them, and a manual backup of a third
// disk that failed too.
const (
	cbrPolicyID     = "5b9e0c1d-2f3a-4b4c-8d5e-6f7a8b9c0d1e"
	cbrVaultID      = "7d1c2a3b-4e5f-4a6b-9c8d-0e1f2a3b4c5d"
	cbrDiskOK       = "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f7a8b9"
	cbrDiskFailed   = "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b"
	cbrDiskManual   = "4b5c6d7e-8f90-4a1b-b2c3-d4e5f6a7b8c9"
	cbrFailedName   = "cbr-data-02"
	cbrFailedCode   = "BackupService.7003"
	cbrFailedReason = "Backup is not allowed in the current disk status."
)

// plantCBR loads the planted CBR account: runs at now-25h and now-1h.
func plantCBR(sim *cbrtest.Server, now time.Time) {
	now = now.UTC().Truncate(time.Minute)
	run := now.Add(-time.Hour)
	const volume = "OS::Cinder::Volume"
	sc := cbrtest.Scenario{
		Policies: []cbrtest.Policy{{ID: cbrPolicyID, Name: "cbr-nightly", Enabled: true, VaultIDs: []string{cbrVaultID},
			Patterns: []string{fmt.Sprintf("FREQ=DAILY;INTERVAL=1;BYHOUR=%d;BYMINUTE=%d", run.Hour(), run.Minute())},
			Start:    now.AddDate(0, -1, 0)}},
		Vaults: []cbrtest.Vault{{ID: cbrVaultID, Name: "cbr-vault", SizeGB: 200, UsedMB: 51200, Threshold: 80, Resources: []cbrtest.Resource{
			{ID: cbrDiskOK, Name: "cbr-data-01", Type: volume, SizeGB: 100, BackupCount: 2},
			{ID: cbrDiskFailed, Name: cbrFailedName, Type: volume, SizeGB: 50, BackupCount: 1}}}},
	}
	n := 0
	add := func(policy, disk, name, status string, created time.Time, code, msg string) {
		n++
		sc.Logs = append(sc.Logs, cbrtest.OperationLog{ID: cbrtest.UUID(42, uint64(n)), PolicyID: policy, Status: status,
			VaultID: cbrVaultID, VaultName: "cbr-vault", ResourceID: disk, ResourceName: name, ResourceType: volume,
			Created: created, Started: created, Ended: created.Add(5 * time.Minute), ErrorCode: code, ErrorMessage: msg, Progress: 100})
	}
	for _, at := range []time.Time{run.Add(-24 * time.Hour), run} {
		add(cbrPolicyID, cbrDiskOK, "cbr-data-01", "success", at, "", "")
	}
	add(cbrPolicyID, cbrDiskFailed, cbrFailedName, "success", run.Add(-24*time.Hour), "", "")
	add(cbrPolicyID, cbrDiskFailed, cbrFailedName, "failed", run, cbrFailedCode, cbrFailedReason)
	// A manual backup that failed: no alert (it has no schedule).
	add("", cbrDiskManual, "cbr-manual", "failed", now.Add(-2*time.Hour), cbrFailedCode, cbrFailedReason)
	sim.Load(sc)
}

// TestPrometheusAlertmanagerCBR runs a CBR target through the real
// Prometheus and Alertmanager with the unchanged rules: the failed disk of
// the policy's newest run raises exactly VBSBackupFailed, whose
// notification carries the vendor's code and message and the disk's name
// from the job; the failed manual backup raises nothing.
func TestPrometheusAlertmanagerCBR(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end test with Prometheus and Alertmanager; skipped with -short")
	}
	prometheusBin := requireTool(t, "E2E_PROMETHEUS", "prometheus", "prometheus")
	alertmanagerBin := requireTool(t, "E2E_ALERTMANAGER", "prometheus-alertmanager", "prometheus-alertmanager")

	sim := cbrtest.NewServer(cbrtest.Options{})
	t.Cleanup(sim.Close)
	plantCBR(sim, time.Now())
	requireLoopback(t, "CBR simulator", sim.URL())
	o := sim.Options()
	dir := t.TempDir()
	skFile := filepath.Join(dir, "cbr_sk")
	if err := os.WriteFile(skFile, []byte(o.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "vbs.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`targets:
  - name: cbr
    service: cbr
    region: eu-west-101
    project_id: %s
    endpoint: %s
    auth:
      access_key: %s
      secret_key_file: %s
`, o.ProjectID, sim.URL(), o.AccessKey, skFile)), 0o600); err != nil {
		t.Fatal(err)
	}

	exporterAddr := freeAddr(t)
	exporter := startProc(t, "vbs_exporter", exporterBin, "--config.file="+cfg, "--web.listen-address="+exporterAddr,
		"--scrape.timeout-offset=200ms", "--log.level=debug")
	exporter.waitReady(t, "http://"+exporterAddr+"/-/healthy", startTimeout)

	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	amAddr := freeAddr(t)
	amURL := "http://" + amAddr
	alertmanager := startProc(t, "alertmanager", alertmanagerBin,
		"--config.file="+writeAlertmanagerConfig(t, hookSrv.URL),
		"--storage.path="+t.TempDir(),
		"--web.listen-address="+amAddr,
		"--web.external-url="+amURL+"/",
		"--cluster.listen-address=",
		"--log.level=debug")
	alertmanager.waitReady(t, amURL+"/-/ready", startTimeout)

	promAddr := freeAddr(t)
	promURL := "http://" + promAddr
	prometheus := startProc(t, "prometheus", prometheusBin,
		"--config.file="+writePrometheusConfig(t, exporterAddr, amAddr, writeRules(t)),
		"--storage.tsdb.path="+t.TempDir(),
		"--web.listen-address="+promAddr,
		"--web.external-url="+promURL+"/",
		"--rules.alert.resend-delay=1s")
	prometheus.waitReady(t, promURL+"/-/ready", startTimeout)

	failed := alertKey{Alertname: "VBSBackupFailed", Severity: "warning", Target: "cbr", PolicyName: "cbr-nightly", ResourceID: cbrDiskFailed}
	want := map[alertKey]bool{failed: true}
	if !t.Run("PlantedAlertsExactly", func(t *testing.T) { waitAlerts(t, promURL, want, isTransient) }) {
		return
	}
	waitNotifications(t, hook, want)
	anns := hook.annotations(failed)
	if len(anns) == 0 {
		t.Fatal("no annotations notified for VBSBackupFailed")
	}
	desc := anns[len(anns)-1]["description"]
	for _, w := range []string{"code " + cbrFailedCode, cbrFailedReason, `"` + cbrFailedName + `"`} {
		if !strings.Contains(desc, w) {
			t.Errorf("VBSBackupFailed description lacks %q: %s", w, desc)
		}
	}
	t.Logf("notified: %s", desc)
}
