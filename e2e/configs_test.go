package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// writeExporterConfig writes the exporter's configuration for the simulators
// (AK/SK with the secret key in a file) and returns its path. endpoints
// replaces the endpoint of the targets it names (e.g. a proxy in front of
// the simulator).
func writeExporterConfig(t *testing.T, sims map[string]*vbstest.Server, endpoints map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	names := make([]string, 0, len(sims))
	for name := range sims {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("targets:\n")
	for _, name := range names {
		srv := sims[name]
		endpoint := srv.URL()
		if e, ok := endpoints[name]; ok {
			endpoint = e
		}
		requireLoopback(t, "simulator "+name, endpoint)
		o := srv.Options()
		skFile := filepath.Join(dir, name+"_sk")
		if err := os.WriteFile(skFile, []byte(o.SecretKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, `  - name: %s
    region: cn-north-4
    project_id: %s
    endpoint: %s
    resource_names: true
    evs_endpoint: %s
    auth:
      access_key: %s
      secret_key_file: %s
`, name, o.ProjectID, endpoint, srv.URL(), o.AccessKey, skFile)
	}
	path := filepath.Join(dir, "vbs.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// forLine matches the `for:` of every rule in the rule file.
var forLine = regexp.MustCompile(`(?m)^( +for: ).*$`)

// writeRules copies alerts/vbs_exporter.rules.yml with every `for:` set to 0s
// (the README's `sed -E 's/^( +for: ).*/\10s/'`), so that the alerts fire at
// their first evaluation. Nothing else in the rules depends on the durations.
func writeRules(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../alerts/vbs_exporter.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	n := len(forLine.FindAllIndex(src, -1))
	if n < 10 {
		t.Fatalf("only %d `for:` lines in the rule file; did its layout change?", n)
	}
	out := forLine.ReplaceAll(src, []byte("${1}0s"))
	if m := regexp.MustCompile(`(?m)^\s*for:\s*(\S+)`).FindAllSubmatch(out, -1); len(m) != n {
		t.Fatalf("rewrote %d `for:` lines but found %d afterwards", n, len(m))
	} else {
		for _, sub := range m {
			if string(sub[1]) != "0s" {
				t.Fatalf("a `for: %s` survived the rewrite", sub[1])
			}
		}
	}
	path := filepath.Join(t.TempDir(), "vbs_exporter.rules.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePrometheusConfig writes prometheus.yml: 1s scrapes of the exporter
// (job "vbs"), 1s rule evaluation, alerts to the Alertmanager.
func writePrometheusConfig(t *testing.T, exporterAddr, alertmanagerAddr, rulesFile string) string {
	t.Helper()
	requireLoopback(t, "exporter", exporterAddr)
	requireLoopback(t, "alertmanager", alertmanagerAddr)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
alerting:
  alertmanagers:
    - api_version: v2
      static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: vbs
    static_configs:
      - targets: [%q]
`, rulesFile, alertmanagerAddr, exporterAddr)
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeAlertmanagerConfig copies alerts/alertmanager.example.yml with every
// receiver replaced by a webhook to hookURL/<receiver name> (integrations of
// other kinds are dropped, URLs in `global` removed), and group_wait and
// group_interval shortened to 1s and repeat_interval to 2s in every route. It fails the test if any
// URL or host outside 127.0.0.1 remains.
func writeAlertmanagerConfig(t *testing.T, hookURL string) string {
	t.Helper()
	requireLoopback(t, "webhook", hookURL)
	src, err := os.ReadFile("../alerts/alertmanager.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		t.Fatalf("alertmanager.example.yml: %v", err)
	}

	if global, ok := cfg["global"].(map[string]any); ok {
		for k, v := range global {
			if s, ok := v.(string); ok && (strings.Contains(s, "://") || strings.HasSuffix(k, "smarthost")) {
				delete(global, k)
			}
		}
	}

	receivers, _ := cfg["receivers"].([]any)
	if len(receivers) == 0 {
		t.Fatal("alertmanager.example.yml has no receivers")
	}
	for _, r := range receivers {
		recv, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("receiver %v is not a mapping", r)
		}
		name, _ := recv["name"].(string)
		if name == "" {
			t.Fatalf("receiver without a name: %v", recv)
		}
		hooks, _ := recv["webhook_configs"].([]any)
		for k := range recv {
			if strings.HasSuffix(k, "_configs") {
				delete(recv, k)
			}
		}
		var rewritten []any
		for _, h := range hooks {
			hook, _ := h.(map[string]any)
			if hook == nil {
				hook = map[string]any{}
			}
			delete(hook, "url_file")
			delete(hook, "http_config")
			hook["url"] = hookURL + "/" + name
			hook["send_resolved"] = true
			rewritten = append(rewritten, hook)
		}
		if len(rewritten) == 0 {
			rewritten = []any{map[string]any{"url": hookURL + "/" + name, "send_resolved": true}}
		}
		recv["webhook_configs"] = rewritten
	}

	route, ok := cfg["route"].(map[string]any)
	if !ok {
		t.Fatal("alertmanager.example.yml has no route")
	}
	var shorten func(map[string]any, bool)
	shorten = func(r map[string]any, root bool) {
		for _, k := range []string{"group_wait", "group_interval"} {
			if _, set := r[k]; set || root {
				r[k] = "1s"
			}
		}
		// Repeats carry the alerts' current annotations, which Prometheus
		// resends: a description that read a recording rule one evaluation
		// too early is followed by the complete one.
		if _, set := r["repeat_interval"]; set || root {
			r["repeat_interval"] = "2s"
		}
		routes, _ := r["routes"].([]any)
		for _, sub := range routes {
			if m, ok := sub.(map[string]any); ok {
				shorten(m, false)
			}
		}
	}
	shorten(route, true)

	// Nothing may point outside this machine.
	var check func(path string, v any)
	check = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				check(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				check(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			if strings.Contains(v, "://") || strings.HasSuffix(path, "smarthost") {
				requireLoopback(t, "alertmanager config "+path, v)
			}
		}
	}
	check("", cfg)

	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
