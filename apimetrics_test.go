package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestAPIMetricsCountEachRequestOnce: an IAM token fetch is one request in
// vbs_api_requests_total, as the simulator sees it; a target removed by a
// reload stops exporting API metrics.
func TestAPIMetricsCountEachRequestOnce(t *testing.T) {
	sim := vbstest.NewServer(vbstest.Options{})
	t.Cleanup(sim.Close)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 2, Days: 2, Seed: 3, Now: time.Now().UTC()}))
	so := sim.Options()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(so.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := func(name string) string {
		return fmt.Sprintf("  - name: %s\n    region: cn-north-4\n    project_id: %s\n    endpoint: %s\n    auth:\n      iam_endpoint: %s\n      domain: %s\n      user: %s\n      password_file: pw\n",
			name, so.ProjectID, sim.URL(), sim.URL(), so.Domain, so.User)
	}
	cfg := filepath.Join(dir, "vbs.yml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("targets:\n" + target("iam"))
	app := newTestApp(t, cfg, testAppOptions{defaultTimeout: 10 * time.Second}).app
	scrape := func() string {
		rec := httptest.NewRecorder()
		app.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		return rec.Body.String()
	}
	body := scrape()
	if n := sim.Requests(vbstest.OpIAMToken); n != 1 {
		t.Fatalf("the simulator saw %d token requests, want 1", n)
	}
	for _, want := range []string{
		`vbs_api_requests_total{code="201",operation="iam_token",target="iam"} 1`,
		`vbs_api_requests_total{code="200",operation="list_policies",target="iam"} 1`,
		// Two policies whose whole history fits a page: each walk reads it
		// and the empty page that ends a walk (a short page does not).
		`vbs_api_requests_total{code="200",operation="list_tasks",target="iam"} 4`,
		`vbs_api_request_duration_seconds_count{operation="iam_token",target="iam"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s in:\n%s", want, strings.Join(htLinesWith(body, "vbs_api_"), "\n"))
		}
	}
	write("targets:\n" + target("other"))
	if err := app.reload(); err != nil {
		t.Fatal(err)
	}
	if body := scrape(); strings.Contains(body, `target="iam"`) {
		t.Errorf("the removed target is still exported:\n%s", strings.Join(htLinesWith(body, `target="iam"`), "\n"))
	}
}
