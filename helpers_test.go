package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestMain fails the package when a goroutine outlives the tests: a
// refresh, a connection or a simulator left running. (The check is
// package-wide so that the tests can run in parallel.)
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// simWithKeyFile starts an AK/SK simulator, closed when the test ends, and
// writes its secret key to dir/secrets/sk for simTargetYAML.
func simWithKeyFile(t *testing.T, dir string) *vbstest.Server {
	t.Helper()
	sim := vbstest.NewServer(vbstest.Options{AccessKey: "E2EACCESSKEY0001", SecretKey: "e2e-secret-key-Vx71"})
	t.Cleanup(sim.Close)
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secrets", "sk"), sim.Options().SecretKey+"\n")
	return sim
}

// simTargetYAML is a config file entry for sim: AK/SK, the secret key from a
// file given relative to the config file (see simWithKeyFile).
func simTargetYAML(name string, sim *vbstest.Server, extra string) string {
	o := sim.Options()
	return fmt.Sprintf(`  - name: %s
    region: cn-north-4
    project_id: %s
    endpoint: %s
%s    auth:
      access_key: %s
      secret_key_file: secrets/sk
`, name, o.ProjectID, sim.URL(), extra, o.AccessKey)
}

// writeFile writes text to path, readable by the owner only.
func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
