// Package e2e proves the alert rules, the Alertmanager example and the Grafana
// dashboard against the real thing: the exporter binary reading two simulated
// VBS accounts, a real Prometheus (Debian package "prometheus") and a real
// Alertmanager (Debian package "prometheus-alertmanager"), all on 127.0.0.1.
// No notification and no other traffic ever leaves this machine: every
// address configured is on loopback and every receiver is a webhook served by
// the test.
package e2e

import (
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// Bounds of the waits; the whole test takes well under two minutes.
const (
	startTimeout  = 30 * time.Second // a process becoming ready
	stableTimeout = 60 * time.Second // the planted alerts, exactly
	stableFor     = 3 * time.Second  // ... unchanged for this long
	stepTimeout   = 30 * time.Second // dashboards, notifications, inhibition
	pollInterval  = 250 * time.Millisecond
)

func TestPrometheusAlertmanager(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end test with Prometheus and Alertmanager; skipped with -short")
	}
	prometheusBin := requireTool(t, "E2E_PROMETHEUS", "prometheus", "prometheus")
	alertmanagerBin := requireTool(t, "E2E_ALERTMANAGER", "prometheus-alertmanager", "prometheus-alertmanager")
	t.Logf("Prometheus: %s", toolVersion(t, prometheusBin))
	t.Logf("Alertmanager: %s", toolVersion(t, alertmanagerBin))
	start := time.Now()

	// 1. Two simulated VBS accounts with the planted scenario.
	now := time.Now().UTC()
	prod := vbstest.NewServer(vbstest.Options{ProjectID: "0605767f2f00d5d22f16c00e4e8f1d4a"})
	t.Cleanup(prod.Close)
	staging := vbstest.NewServer(vbstest.Options{
		ProjectID: "1a2b3c4d5e6f4a0b9c8d7e6f5a4b3c2d",
		AccessKey: "STAGINGAKE2E0000000", SecretKey: "staging-secret-key-e2e",
	})
	t.Cleanup(staging.Close)
	plantProd(t, prod, now)
	plantStaging(t, staging, now)
	prod.SetVolumes([]vbstest.Volume{{ID: "vol-prod-failed", Name: failedDiskName}})
	// staging's API fails every 4th call of each operation and policy (25 %);
	// the exporter's retries read everything.
	flaky, stagingURL := newFlakyProxy(t, staging.URL(), 4)

	// 2. The exporter.
	exporterAddr := freeAddr(t)
	exporter := startProc(t, "vbs_exporter", exporterBin,
		"--config.file="+writeExporterConfig(t, map[string]*vbstest.Server{"prod": prod, "staging": staging},
			map[string]string{"staging": stagingURL}),
		"--web.listen-address="+exporterAddr,
		// Prometheus's 1s scrape timeout minus 200ms: more time for the API
		// calls than the default 500ms offset leaves, on a loaded CI machine.
		"--scrape.timeout-offset=200ms",
		"--log.level=debug")
	exporter.waitReady(t, "http://"+exporterAddr+"/-/healthy", startTimeout)
	warmUp(t, "http://"+exporterAddr+"/metrics")

	// 3. The webhook and the Alertmanager.
	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	amAddr := freeAddr(t)
	amURL := "http://" + amAddr
	amConfig := writeAlertmanagerConfig(t, hookSrv.URL)
	alertmanager := startProc(t, "alertmanager", alertmanagerBin,
		"--config.file="+amConfig,
		"--storage.path="+t.TempDir(),
		"--web.listen-address="+amAddr,
		"--web.external-url="+amURL+"/",
		"--cluster.listen-address=", // no clustering: no gossip, no peers
		"--log.level=debug")
	alertmanager.waitReady(t, amURL+"/-/ready", startTimeout)
	checkAlertmanagerReceivers(t, amURL, amConfig, hookSrv.URL)

	// 4. Prometheus.
	promAddr := freeAddr(t)
	promURL := "http://" + promAddr
	prometheus := startProc(t, "prometheus", prometheusBin,
		"--config.file="+writePrometheusConfig(t, exporterAddr, amAddr, writeRules(t)),
		"--storage.tsdb.path="+t.TempDir(),
		"--web.listen-address="+promAddr,
		"--web.external-url="+promURL+"/",
		"--rules.alert.resend-delay=1s")
	prometheus.waitReady(t, promURL+"/-/ready", startTimeout)
	t.Logf("simulators, exporter, Alertmanager and Prometheus up after %v", time.Since(start).Round(time.Millisecond))

	want := map[alertKey]bool{}
	for _, k := range plantedAlerts {
		want[k] = true
	}

	if !t.Run("PlantedAlertsExactly", func(t *testing.T) {
		waitAlerts(t, promURL, want, isTransient)
	}) {
		return
	}
	t.Logf("planted alerts stable after %v", time.Since(start).Round(time.Millisecond))
	checkPrometheusPeers(t, promURL, exporterAddr, amAddr)

	if !t.Run("DashboardQueriesReturnData", func(t *testing.T) {
		checkDashboard(t, promURL, "../dashboards/vbs-overview.json")
	}) {
		return
	}

	if !t.Run("NotificationsArrive", func(t *testing.T) {
		waitNotifications(t, hook, want)
	}) {
		return
	}
	t.Logf("notifications received after %v", time.Since(start).Round(time.Millisecond))

	// VBSBackupFailed says why and which disk: the newest failure's code and
	// message and the disk's name from EVS reach the webhook.
	if !t.Run("FailedNotificationSaysWhy", func(t *testing.T) {
		checkFailedReason(t, hook)
	}) {
		return
	}

	// The missed disk reached the webhook while a quarter of staging's API
	// calls failed; Alertmanager holds it active, inhibited by nothing.
	if !t.Run("FlakyAPIDoesNotInhibitMissed", func(t *testing.T) {
		checkFreshData(t, promURL, flaky)
		waitActive(t, amURL)
	}) {
		return
	}

	// 5. Break the staging API: the exporter reports vbs_up{target="staging"} 0
	// and keeps staging's last values, so its missed disk still fires in
	// Prometheus, and Alertmanager must inhibit it.
	staging.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListPolicies, Status: 503})
	t.Run("APIOutageInhibitsMissed", func(t *testing.T) {
		withOutage := maps.Clone(want)
		withOutage[apiDownAlert] = true
		for k := range withOutage {
			if k.Alertname == "VBSAPIErrorRate" && k.Target == "staging" {
				delete(withOutage, k) // vbs_up 0 suppresses it: VBSTargetDown says more
			}
		}
		waitAlerts(t, promURL, withOutage, isOutageTransient)
		res, err := promQuery(promURL, `vbs_up{target="staging"} == 0`)
		if err != nil || res.size() != 1 {
			t.Fatalf("vbs_up{target=\"staging\"} is not 0: %v %s", err, res.Result)
		}
		waitInhibition(t, amURL)
	})
	t.Logf("done after %v", time.Since(start).Round(time.Millisecond))
}

// warmUp scrapes the exporter (without a scrape timeout header: a 10s
// deadline) until both targets are up and every policy's history is read, so
// that Prometheus's 1s scrapes find warm job caches and connections and
// only the incremental refreshes remain. Without it a first scrape on a busy
// machine can run out of its 1s budget and fire VBSPolicyRefreshFailing, which is right
// for the rules but not what this test is about.
func warmUp(t *testing.T, metricsURL string) {
	t.Helper()
	err := poll(startTimeout, pollInterval, func() error {
		resp, err := httpClient.Get(metricsURL)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		text := string(body)
		for _, want := range []string{`vbs_up{target="prod"} 1`, `vbs_up{target="staging"} 1`} {
			if !strings.Contains(text, want+"\n") {
				return fmt.Errorf("no %s yet", want)
			}
		}
		for _, line := range strings.Split(text, "\n") {
			if (strings.HasPrefix(line, "vbs_policy_backfill_complete{") || strings.HasPrefix(line, "vbs_policy_refresh_success{")) &&
				strings.HasSuffix(line, " 0") {
				return fmt.Errorf("not read completely yet: %s", line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the exporter did not read the simulators: %v", err)
	}
}

// waitAlerts waits until Prometheus's pending and firing alerts are exactly
// want, all firing (every `for:` is 0s), for stableFor. Alerts in neither want
// nor transient fail the test at once; transient ones must clear before the
// deadline.
func waitAlerts(t *testing.T, promURL string, want map[alertKey]bool, transient func(alertKey) bool) {
	t.Helper()
	var stableSince time.Time
	var last string
	err := poll(stableTimeout, pollInterval, func() error {
		alerts, err := promAlerts(promURL)
		if err != nil {
			stableSince = time.Time{}
			return err
		}
		got := map[alertKey]string{}
		for _, a := range alerts {
			k := keyOf(a.Labels)
			if !want[k] && !transient(k) {
				return permanentError{fmt.Errorf("unexpected alert %s (%s), labels %v", k, a.State, a.Labels)}
			}
			if _, dup := got[k]; dup {
				return permanentError{fmt.Errorf("alert %s twice: the rules must produce each alert once (labels %v)", k, a.Labels)}
			}
			got[k] = a.State
		}
		var missing, notFiring, transient []string
		for k := range want {
			switch state, ok := got[k]; {
			case !ok:
				missing = append(missing, k.String())
			case state != "firing":
				notFiring = append(notFiring, k.String()+" "+state)
			}
		}
		for k := range got {
			if !want[k] {
				transient = append(transient, k.String())
			}
		}
		slices.Sort(missing)
		slices.Sort(notFiring)
		slices.Sort(transient)
		if len(missing)+len(notFiring)+len(transient) > 0 {
			stableSince = time.Time{}
			msg := fmt.Sprintf("missing %v, not firing %v, transient alerts not cleared %v; Prometheus has:\n%s",
				missing, notFiring, transient, keySet(got))
			if msg != last {
				t.Logf("%s: %s", time.Now().Format("15:04:05.000"), msg)
				last = msg
			}
			return fmt.Errorf("%s", msg)
		}
		if stableSince.IsZero() {
			stableSince = time.Now()
		}
		if time.Since(stableSince) < stableFor {
			return fmt.Errorf("stable for %v only", time.Since(stableSince).Round(time.Millisecond))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Prometheus's alerts are not exactly the planted ones: %v\nwant:\n%s", err, keySet(want))
	}
}

// checkDashboard runs every panel query of the dashboard on Prometheus: each
// must parse and return data (not only NaN). Rate-based queries need two
// scrapes, so queries without data are retried until stepTimeout. No panel
// needs an exception: the scenario has a failing disk, running and stuck
// jobs, successful durations and API traffic, so every panel has something
// to show. The one exception: a query on CBR vault series may be empty while
// the scenario serves no vault at all (no vbs_vault_info); it is checked as
// soon as a CBR target with vaults joins the scenario.
func checkDashboard(t *testing.T, promURL, path string) {
	t.Helper()
	queries := dashboardQueries(t, path)
	vaults, err := promQuery(promURL, "vbs_vault_info")
	if err != nil {
		t.Fatal(err)
	}
	if vaults.size() == 0 {
		var kept []dashboardQuery
		for _, q := range queries {
			if vaultSeries.MatchString(q.Expr) {
				t.Logf("panel %q query %s not checked: the scenario has no CBR vault", q.Panel, q.RefID)
				continue
			}
			kept = append(kept, q)
		}
		queries = kept
	}
	pending := slices.Clone(queries)
	err = poll(stepTimeout, pollInterval, func() error {
		var still []dashboardQuery
		var reasons []string
		for _, q := range pending {
			res, err := promQuery(promURL, q.Expr)
			if err != nil {
				if _, perm := err.(permanentError); perm {
					t.Errorf("panel %q query %s does not run: %v\n  %s", q.Panel, q.RefID, err, q.Expr)
					continue
				}
				return err
			}
			switch {
			case res.size() == 0:
				reasons = append(reasons, fmt.Sprintf("panel %q query %s returned no data:\n  %s", q.Panel, q.RefID, q.Expr))
			case res.allNaN():
				reasons = append(reasons, fmt.Sprintf("panel %q query %s returned only NaN:\n  %s", q.Panel, q.RefID, q.Expr))
			default:
				continue
			}
			still = append(still, q)
		}
		pending = still
		if len(reasons) > 0 {
			return fmt.Errorf("%s", strings.Join(reasons, "\n"))
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	t.Logf("%d dashboard queries checked", len(queries))
}

// vaultSeries matches a query that reads CBR vault series, raw or recorded.
var vaultSeries = regexp.MustCompile(`vbs[_:]vault_`)

// waitNotifications waits until every planted alert has reached the webhook
// as firing, through the receiver its severity routes to, and checks that
// nothing else was notified but the start-up transients.
func waitNotifications(t *testing.T, hook *webhook, want map[alertKey]bool) {
	t.Helper()
	err := poll(stepTimeout, pollInterval, func() error {
		got, bad := hook.firing()
		if len(bad) > 0 {
			return permanentError{fmt.Errorf("malformed notifications: %v", bad)}
		}
		for k, receivers := range got {
			if !want[k] && !isTransient(k) {
				return permanentError{fmt.Errorf("notified of an alert that was not planted: %s", k)}
			}
			for _, r := range receivers {
				if r != "vbs-"+k.Severity {
					return permanentError{fmt.Errorf("%s went to receiver %s, want vbs-%s", k, r, k.Severity)}
				}
			}
		}
		var missing []string
		for k := range want {
			if _, ok := got[k]; !ok {
				missing = append(missing, k.String())
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			return fmt.Errorf("not notified yet: %v; notified:\n%s", missing, keySet(got))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := hook.firing()
	t.Logf("notified as firing:\n%s", keySet(got))
}

// waitInhibition waits until Alertmanager holds the staging API alert and
// reports staging's missed-backup alert as inhibited by it, while no prod
// alert is inhibited or silenced.
func waitInhibition(t *testing.T, amURL string) {
	t.Helper()
	missed := missedAlert
	if missed.Alertname != "VBSBackupMissed" || missed.Target != "staging" {
		t.Fatalf("missedAlert is %s, want staging's VBSBackupMissed", missed)
	}
	err := poll(stepTimeout, pollInterval, func() error {
		alerts, err := amAlerts(amURL)
		if err != nil {
			return err
		}
		byKey := map[alertKey]amAlert{}
		for _, a := range alerts {
			byKey[keyOf(a.Labels)] = a
		}
		source, ok := byKey[apiDownAlert]
		if !ok {
			return fmt.Errorf("Alertmanager does not hold %s yet; it has:\n%s", apiDownAlert, keySet(byKey))
		}
		m, ok := byKey[missed]
		if !ok {
			return fmt.Errorf("Alertmanager does not hold %s; it has:\n%s", missed, keySet(byKey))
		}
		if m.Status.State != "suppressed" || !slices.Contains(m.Status.InhibitedBy, source.Fingerprint) {
			return fmt.Errorf("%s is %s, inhibited by %v; want suppressed, inhibited by %s (%s)",
				missed, m.Status.State, m.Status.InhibitedBy, source.Fingerprint, apiDownAlert)
		}
		for _, k := range plantedAlerts {
			if k.Target != "prod" {
				continue
			}
			a, ok := byKey[k]
			if !ok {
				return fmt.Errorf("Alertmanager does not hold %s", k)
			}
			if a.Status.State != "active" || len(a.Status.InhibitedBy) > 0 || len(a.Status.SilencedBy) > 0 {
				return permanentError{fmt.Errorf("%s is %s (inhibited by %v, silenced by %v); an outage of staging must not touch prod",
					k, a.Status.State, a.Status.InhibitedBy, a.Status.SilencedBy)}
			}
		}
		if source.Status.State != "active" {
			return fmt.Errorf("%s is %s, want active", apiDownAlert, source.Status.State)
		}
		t.Logf("%s is %s, inhibited by %s (%s); prod's alerts are active", missed, m.Status.State, source.Fingerprint, apiDownAlert)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkAlertmanagerReceivers requires the running Alertmanager to have loaded
// the test's configuration: the receivers it reports (read from its status
// API) are exactly those of the file the test wrote, each with webhooks only.
// Their URLs are checked in the file (writeAlertmanagerConfig allows nothing
// but the test's loopback webhook): Alertmanager 0.25 shows them in its
// status API, newer releases show "<secret>", and a URL it does show must be
// the test's webhook. That every receiver reaches the webhook is proven by
// the notifications themselves.
func checkAlertmanagerReceivers(t *testing.T, amURL, configPath, hookURL string) {
	t.Helper()
	file, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
	}
	if err := getJSON(amURL+"/api/v2/status", &status); err != nil {
		t.Fatal(err)
	}
	type receivers struct {
		Receivers []map[string]any `yaml:"receivers"`
	}
	var loaded, written receivers
	if err := yaml.Unmarshal([]byte(status.Config.Original), &loaded); err != nil {
		t.Fatalf("Alertmanager's configuration: %v", err)
	}
	if err := yaml.Unmarshal(file, &written); err != nil {
		t.Fatalf("%s: %v", configPath, err)
	}
	names := func(rs receivers) []string {
		var out []string
		for _, r := range rs.Receivers {
			out = append(out, fmt.Sprint(r["name"]))
		}
		slices.Sort(out)
		return out
	}
	if len(loaded.Receivers) == 0 {
		t.Fatal("Alertmanager runs without receivers")
	}
	if got, want := names(loaded), names(written); !slices.Equal(got, want) {
		t.Fatalf("Alertmanager's receivers are %v, the test's configuration has %v", got, want)
	}
	shown, hidden := 0, 0
	defer func() {
		t.Logf("Alertmanager's status API shows %d webhook URLs and hides %d as <secret>", shown, hidden)
	}()
	for _, r := range loaded.Receivers {
		for k, v := range r {
			switch {
			case k == "name":
			case k == "webhook_configs":
				hooks, _ := v.([]any)
				if len(hooks) == 0 {
					t.Errorf("receiver %v has no webhook", r["name"])
				}
				for _, h := range hooks {
					u, _ := h.(map[string]any)["url"].(string)
					if u == "<secret>" {
						hidden++
						continue
					}
					shown++
					if !strings.HasPrefix(u, hookURL+"/") {
						t.Errorf("receiver %v: webhook %q is not the test's webhook %s", r["name"], u, hookURL)
					}
				}
			default:
				t.Errorf("receiver %v has %s: only the test's webhooks may receive notifications", r["name"], k)
			}
		}
	}
}

// checkFreshData requires staging's data to be fresh in Prometheus (vbs_up 1,
// every policy refreshed) while the flaky proxy has failed a quarter of the
// calls, and Prometheus to see that share in vbs_api_requests_total.
func checkFreshData(t *testing.T, promURL string, flaky *flakyProxy) {
	t.Helper()
	total, failures := flaky.counts()
	t.Logf("flaky proxy: %d of %d staging API calls failed (%.1f %%)", failures, total, 100*float64(failures)/float64(total))
	if total < 20 || failures*4 > total || (failures+3)*4 < total {
		t.Fatalf("flaky proxy failed %d of %d calls, want every 4th call of each path", failures, total)
	}
	for _, q := range []string{
		`vbs_up{target="staging"} == 1`,
		`count(vbs_policy_refresh_success{target="staging"} == 1) == 2`,
		`sum(rate(vbs_api_requests_total{target="staging",code="503"}[10m])) / sum(rate(vbs_api_requests_total{target="staging"}[10m])) > 0.15`,
	} {
		res, err := promQuery(promURL, q)
		if err != nil || res.size() != 1 {
			t.Fatalf("%s: %v %s", q, err, res.Result)
		}
	}
}

// waitActive waits until Alertmanager holds staging's VBSAPIErrorRate alerts
// and its missed disk, all active: an error rate whose retries succeed says
// nothing about the data, so it inhibits nothing.
func waitActive(t *testing.T, amURL string) {
	t.Helper()
	err := poll(stepTimeout, pollInterval, func() error {
		alerts, err := amAlerts(amURL)
		if err != nil {
			return err
		}
		byKey := map[alertKey]amAlert{}
		for _, a := range alerts {
			byKey[keyOf(a.Labels)] = a
		}
		for _, k := range plantedAlerts {
			if k.Target != "staging" {
				continue
			}
			a, ok := byKey[k]
			if !ok {
				return fmt.Errorf("Alertmanager does not hold %s yet; it has:\n%s", k, keySet(byKey))
			}
			if a.Status.State != "active" || len(a.Status.InhibitedBy) > 0 || len(a.Status.SilencedBy) > 0 {
				return permanentError{fmt.Errorf("%s is %s (inhibited by %v, silenced by %v); with fresh data it must be active",
					k, a.Status.State, a.Status.InhibitedBy, a.Status.SilencedBy)}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s is active next to staging's VBSAPIErrorRate alerts", missedAlert)
}

// checkPrometheusPeers requires Prometheus to scrape only the exporter and
// to send alerts only to the test's Alertmanager.
func checkPrometheusPeers(t *testing.T, promURL, exporterAddr, amAddr string) {
	t.Helper()
	var targets struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := getJSON(promURL+"/api/v1/targets", &targets); err != nil {
		t.Fatal(err)
	}
	if n := len(targets.Data.ActiveTargets); n != 1 || targets.Data.ActiveTargets[0].ScrapeURL != "http://"+exporterAddr+"/metrics" {
		t.Errorf("Prometheus's scrape targets are %+v, want only http://%s/metrics", targets.Data.ActiveTargets, exporterAddr)
	}
	var ams struct {
		Data struct {
			Active []struct {
				URL string `json:"url"`
			} `json:"activeAlertmanagers"`
		} `json:"data"`
	}
	if err := getJSON(promURL+"/api/v1/alertmanagers", &ams); err != nil {
		t.Fatal(err)
	}
	if n := len(ams.Data.Active); n != 1 || !strings.HasPrefix(ams.Data.Active[0].URL, "http://"+amAddr+"/") {
		t.Errorf("Prometheus's Alertmanagers are %+v, want only http://%s", ams.Data.Active, amAddr)
	}
}

// checkFailedReason waits for a VBSBackupFailed notification of
// vol-prod-failed whose description names the newest failure's code and
// message and the disk's name, and logs it.
func checkFailedReason(t *testing.T, hook *webhook) {
	t.Helper()
	k := alertKey{Alertname: "VBSBackupFailed", Severity: "critical", Target: "prod", PolicyName: "prod-daily", ResourceID: "vol-prod-failed"}
	wants := []string{"code " + failedCode, failedMessage, `"` + failedDiskName + `"`}
	var last string
	err := poll(stepTimeout, pollInterval, func() error {
		for _, a := range hook.annotations(k) {
			last = a["description"]
			ok := true
			for _, w := range wants {
				ok = ok && strings.Contains(last, w)
			}
			if ok {
				t.Logf("%s reached the webhook: summary %q, description %q", k, a["summary"], last)
				return nil
			}
		}
		return fmt.Errorf("no notification of %s names %q yet; last description: %q", k, wants, last)
	})
	if err != nil {
		t.Fatal(err)
	}
}
