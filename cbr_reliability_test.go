package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
)

// TestCBRSecretsScan runs a CBR target through what could make it echo its
// secret key: a failed job and a resource name that hold it, and API errors
// (500, 401) whose messages quote it. Every page, probe, debug refresh,
// /config and log line is scanned for the key and fragments of it, as the
// fault suite does for the VBS targets.
func TestCBRSecretsScan(t *testing.T) {
	t.Parallel()
	sink := &relSink{}
	dir := t.TempDir()
	now := time.Now().UTC()
	sim := cbrtest.NewServer(cbrtest.Options{ProjectID: relProjectA, AccessKey: relAccessKey, SecretKey: relSecretKey})
	t.Cleanup(sim.Close)
	sim.Load(cbrtest.DemoScenario(now))
	const nightly = "5b9e0c1d-2f3a-4b4c-8d5e-6f7a8b9c0d1e"
	sim.AddLogs(cbrtest.OperationLog{ID: cbrtest.UUID(7, 1), PolicyID: nightly, Status: "failed",
		ResourceID: cbrtest.UUID(7, 2), ResourceName: "disk " + relSecretKey, ResourceType: "OS::Cinder::Volume",
		Created: now.Add(-time.Hour), Started: now.Add(-time.Hour), Ended: now.Add(-50 * time.Minute),
		ErrorCode: "BackupService.7003", ErrorMessage: "the key " + relSecretKey + " was refused"})

	writeFile(t, filepath.Join(dir, "secret_key"), relSecretKey+"\n")
	cfg := filepath.Join(dir, "vbs.yml")
	writeFile(t, cfg, fmt.Sprintf(`targets:
  - name: cbr
    service: cbr
    region: eu-west-101
    project_id: %s
    endpoint: %s
    auth:
      access_key: %s
      secret_key_file: secret_key
`, relProjectA, sim.URL(), relAccessKey))
	app := newTestApp(t, cfg, testAppOptions{defaultTimeout: 10 * time.Second})
	do := func(target string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		app.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		sink.add("GET "+target, rec.Body.String())
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: status %d", target, rec.Code)
		}
		return rec.Body.String()
	}
	body := do("/probe?target=cbr")
	for _, want := range []string{`vbs_up{target="cbr"} 1`, `code="BackupService.7003",message="the key [REDACTED] was refused"`, `resource_name="disk [REDACTED]"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the probe lacks %s:\n%s", want, body)
		}
	}
	do("/")
	do("/config")
	do("/probe?target=cbr&debug=true")
	for _, f := range []cbrtest.Fault{
		{Op: cbrtest.OpListOperationLogs, Status: 500, Message: "internal error for key " + relSecretKey},
		{Op: cbrtest.OpListPolicies, Status: 401, Code: "APIGW.0301", Message: "Incorrect IAM authentication information: " + relSecretKey},
	} {
		id := sim.AddFault(f)
		do("/probe?target=cbr")
		do("/probe?target=cbr&debug=true")
		do("/")
		sim.RemoveFault(id)
	}
	sink.add("logs", app.logs.String())
	if texts, _ := sink.scan(t); texts < 10 {
		t.Errorf("scanned only %d outputs", texts)
	}
}
