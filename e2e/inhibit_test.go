package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// backupAlerts are the alerts about backups: no alert may inhibit them unless
// the data behind them is stale.
var backupAlerts = []string{"VBSBackupMissed", "VBSBackupFailed", "VBSBackupStuck", "VBSPolicyNotRunning", "VBSPolicyUncovered", "VBSVaultNearlyFull"}

// alertLabels are the labels (besides severity) each backup alert carries
// where they apply: an inhibition that matches on a label its target alert
// lacks compares two empty values and reaches every such alert of the
// target (a policy's refresh failing would silence every vault).
var alertLabels = map[string][]string{
	"VBSVaultNearlyFull": {"target", "vault_id"},
}

// staleDataAlerts are the alerts that mean the data is stale, and how far:
// the labels an inhibition they source must match on.
var staleDataAlerts = map[string][]string{
	"VBSExporterDown":         {"target"},
	"VBSTargetDown":           {"target"},
	"VBSPolicyRefreshFailing": {"target", "policy_id"},
}

// matcherRE splits an Alertmanager matcher such as alertname=~"A|B".
var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$`)

// alertnameMatches reports whether an alert named name passes the matchers'
// conditions on alertname (other labels are not looked at).
func alertnameMatches(t *testing.T, matchers []string, name string) bool {
	t.Helper()
	for _, m := range matchers {
		sub := matcherRE.FindStringSubmatch(m)
		if sub == nil {
			t.Fatalf("matcher %q: cannot parse", m)
		}
		if sub[1] != "alertname" {
			continue
		}
		v := strings.Trim(sub[3], `"`)
		var ok bool
		switch sub[2] {
		case "=":
			ok = name == v
		case "!=":
			ok = name != v
		case "=~", "!~":
			re, err := regexp.Compile("^(?:" + v + ")$")
			if err != nil {
				t.Fatalf("matcher %q: %v", m, err)
			}
			ok = re.MatchString(name) == (sub[2] == "=~")
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestInhibitOnlyOnStaleData checks alerts/alertmanager.example.yml against
// every alert of the rule file: an inhibit rule whose targets include a
// backup alert may only be sourced by the stale-data alerts, and must match
// on at least the labels that say how far the data is stale (a policy's
// refresh failing inhibits that policy only). The real Alertmanager proves
// the same in TestPrometheusAlertmanager, for the scenario it plants.
func TestInhibitOnlyOnStaleData(t *testing.T) {
	rulesSrc, err := os.ReadFile("../alerts/vbs_exporter.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rulesSrc, &rules); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !slices.Contains(names, r.Alert) {
				names = append(names, r.Alert)
			}
		}
	}
	for _, want := range append(slices.Clone(backupAlerts), "VBSExporterDown", "VBSTargetDown", "VBSPolicyRefreshFailing", "VBSAPIErrorRate", "VBSPolicyBackfillIncomplete") {
		if !slices.Contains(names, want) {
			t.Errorf("the rule file has no alert %s", want)
		}
	}

	amSrc, err := os.ReadFile("../alerts/alertmanager.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var am struct {
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(amSrc, &am); err != nil {
		t.Fatal(err)
	}
	if len(am.InhibitRules) == 0 {
		t.Fatal("alertmanager.example.yml has no inhibit rules")
	}
	sources := map[string]bool{}
	for i, r := range am.InhibitRules {
		var targets []string
		for _, n := range backupAlerts {
			if alertnameMatches(t, r.TargetMatchers, n) {
				targets = append(targets, n)
			}
		}
		if len(targets) == 0 {
			continue
		}
		for _, n := range names {
			if !alertnameMatches(t, r.SourceMatchers, n) {
				continue
			}
			need, stale := staleDataAlerts[n]
			if !stale {
				t.Errorf("inhibit rule %d: %s inhibits %v, but it does not mean the data is stale", i, n, targets)
				continue
			}
			sources[n] = true
			for _, l := range need {
				if !slices.Contains(r.Equal, l) {
					t.Errorf("inhibit rule %d: %s inhibits %v without equal on %s: it would reach beyond the stale data", i, n, targets, l)
				}
			}
			for _, tg := range targets {
				have, ok := alertLabels[tg]
				if !ok {
					continue
				}
				for _, l := range r.Equal {
					if !slices.Contains(have, l) {
						t.Errorf("inhibit rule %d: %s inhibits %s with equal on %s, a label %s does not carry: it would reach every %s of the target", i, n, tg, l, tg, tg)
					}
				}
			}
		}
	}
	for n := range staleDataAlerts {
		if !sources[n] {
			t.Errorf("%s inhibits no backup alert: stale data would page", n)
		}
	}
}
