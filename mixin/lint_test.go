// Package mixin holds the tests of the jsonnet monitoring mixin's rendered
// output; the mixin itself is jsonnet (mixin.libsonnet), rendered by
// render.sh with go-jsonnet.
package mixin

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// panel is the part of a Grafana panel the lint reads.
type panel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Links []struct {
		URL string `json:"url"`
	} `json:"links"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type dashboard struct {
	UID        string  `json:"uid"`
	Editable   *bool   `json:"editable"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Links []struct {
		URL string `json:"url"`
	} `json:"links"`
}

func loadDashboard(t *testing.T, path string) dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// lintDashboard returns one finding per rule a dashboard breaks: not
// read-only, a variable missing, a panel (rows excepted) without unit,
// title or description, a query without the job and instance selectors, a
// rate()/increase() on the windowed duration histogram.
func lintDashboard(d dashboard) []string {
	var out []string
	if d.Editable == nil || *d.Editable {
		out = append(out, "dashboard: editable must be false")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, want := range []string{"datasource", "job", "instance", "target", "policy"} {
		if !vars[want] {
			out = append(out, "dashboard: no $"+want+" variable")
		}
	}
	windowedRate := regexp.MustCompile(`(rate|increase|irate|delta|deriv)\([^()]*vbs_policy_window_backup_duration_seconds`)
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			name := p.Title
			if name == "" {
				name = fmt.Sprintf("panel %d", p.ID)
			}
			if p.Type != "row" {
				if p.Title == "" {
					out = append(out, name+": no title")
				}
				if strings.TrimSpace(p.Description) == "" {
					out = append(out, name+": no description")
				}
				if p.FieldConfig.Defaults.Unit == "" {
					out = append(out, name+": no unit (fieldConfig.defaults.unit)")
				}
				if len(p.Targets) == 0 {
					out = append(out, name+": no query")
				}
			}
			for _, tg := range p.Targets {
				for _, sel := range []string{`job=~"$job"`, `instance=~"$instance"`} {
					if !strings.Contains(tg.Expr, sel) {
						out = append(out, name+" "+tg.RefID+": query lacks "+sel)
					}
				}
				if windowedRate.MatchString(tg.Expr) {
					out = append(out, name+" "+tg.RefID+": rate()/increase() on the windowed vbs_policy_window_backup_duration_seconds")
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// TestDashboardLint is our own dashboard linter (the Grafana one is not
// installable here): every panel has a unit and a description, every query
// carries the job and instance selectors, the dashboard is read-only.
func TestDashboardLint(t *testing.T) {
	d := loadDashboard(t, "../dashboards/vbs-overview.json")
	for _, f := range lintDashboard(d) {
		t.Error(f)
	}
	panels := 0
	var count func([]panel)
	count = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" {
				panels++
			}
			count(p.Panels)
		}
	}
	count(d.Panels)
	if panels < 20 {
		t.Errorf("only %d panels: the dashboard lost panels", panels)
	}
}

// TestDashboardLintFindsEachProblem proves that the lint can fail: a
// dashboard with one of each problem yields exactly these findings.
func TestDashboardLintFindsEachProblem(t *testing.T) {
	editable := true
	var d dashboard
	d.Editable = &editable
	d.Templating.List = append(d.Templating.List, struct {
		Name  string `json:"name"`
		Query any    `json:"query"`
	}{Name: "datasource"})
	var p panel
	p.Type = "timeseries"
	p.Title = "Durations"
	p.Targets = append(p.Targets, struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	}{RefID: "A", Expr: `rate(vbs_policy_window_backup_duration_seconds_sum{job=~"$job"}[5m])`})
	d.Panels = []panel{{Type: "row", Title: "Row", Panels: []panel{p}}}
	got := lintDashboard(d)
	want := []string{
		"dashboard: editable must be false",
		"dashboard: no $job variable",
		"dashboard: no $instance variable",
		"dashboard: no $target variable",
		"dashboard: no $policy variable",
		"Durations: no description",
		"Durations: no unit (fieldConfig.defaults.unit)",
		`Durations A: query lacks instance=~"$instance"`,
		"Durations A: rate()/increase() on the windowed vbs_policy_window_backup_duration_seconds",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDashboardRunbookLinks: the dashboard links to the runbooks, and so do
// the panels that mirror an alert, with the same base as the alerts'
// runbook_url annotations.
func TestDashboardRunbookLinks(t *testing.T) {
	d := loadDashboard(t, "../dashboards/vbs-overview.json")
	const base = "https://github.com/vbs-exporter/vbs_exporter/blob/main/alerts/README.md"
	if len(d.Links) == 0 || d.Links[0].URL != base {
		t.Errorf("dashboard links %+v, want the runbook %s", d.Links, base)
	}
	rules, err := os.ReadFile("../alerts/vbs_exporter.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`runbook_url: "([^"]+)"`).FindAllStringSubmatch(string(rules), -1) {
		anchors[m[1]] = true
	}
	linked := 0
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, l := range p.Links {
				if !anchors[l.URL] {
					t.Errorf("panel %q links to %s, which no alert's runbook_url is", p.Title, l.URL)
				}
				linked++
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if linked < 10 {
		t.Errorf("%d panel runbook links, want every alert-mirroring panel linked", linked)
	}
}

// TestBehindSchedulePanelIsTested: alerts/tests/behind_schedule.yml runs the
// "Disks behind schedule" stat's query, exactly as rendered (variables set to
// All), against the scenario where VBSBackupMissed fires; a changed panel
// query must be changed there too, or the agreement is no longer proven.
func TestBehindSchedulePanelIsTested(t *testing.T) {
	d := loadDashboard(t, "../dashboards/vbs-overview.json")
	var expr string
	for _, p := range d.Panels {
		if p.Type == "stat" && p.Title == "Disks behind schedule" && len(p.Targets) == 1 {
			expr = p.Targets[0].Expr
		}
	}
	if expr == "" {
		t.Fatal(`no "Disks behind schedule" stat with one query`)
	}
	if !strings.Contains(expr, "vbs:resource_behind_schedule_seconds") {
		t.Errorf("the panel does not read the series VBSBackupMissed reads: %s", expr)
	}
	expr = strings.NewReplacer("$job", ".*", "$instance", ".*", "$target", ".*", "$policy", ".*").Replace(expr)
	test, err := os.ReadFile("../alerts/tests/behind_schedule.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(test), "- expr: '"+expr+"'") {
		t.Errorf("alerts/tests/behind_schedule.yml does not test the panel's query\n  %s", expr)
	}
}

// TestVaultsNearlyFullPanelIsTested: alerts/tests/vault_full.yml runs the
// "Vaults nearly full" stat's query, exactly as rendered (variables set to
// All), against the scenario where VBSVaultNearlyFull fires, so the stat and
// the alert are proven to count the same vaults.
func TestVaultsNearlyFullPanelIsTested(t *testing.T) {
	d := loadDashboard(t, "../dashboards/vbs-overview.json")
	var expr string
	for _, p := range d.Panels {
		if p.Type == "stat" && p.Title == "Vaults nearly full" && len(p.Targets) == 1 {
			expr = p.Targets[0].Expr
		}
	}
	if expr == "" {
		t.Fatal(`no "Vaults nearly full" stat with one query`)
	}
	rules, err := os.ReadFile("../alerts/vbs_exporter.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(expr, "vbs:vault_nearly_full_ratio") || !strings.Contains(string(rules), "vbs:vault_nearly_full_ratio >= ") {
		t.Errorf("the panel and VBSVaultNearlyFull do not both read vbs:vault_nearly_full_ratio: %s", expr)
	}
	expr = strings.NewReplacer("$job", ".*", "$instance", ".*", "$target", ".*", "$policy", ".*").Replace(expr)
	test, err := os.ReadFile("../alerts/tests/vault_full.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(test), "- expr: '"+expr+"'") {
		t.Errorf("alerts/tests/vault_full.yml does not test the panel's query\n  %s", expr)
	}
}
