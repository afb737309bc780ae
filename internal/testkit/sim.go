package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// SimWithKeyFile starts a VBS simulator with its own AK/SK, closed when the
// test ends, and writes its secret key to dir/secrets/sk for SimTargetYAML.
func SimWithKeyFile(t testing.TB, dir string) *vbstest.Server {
	t.Helper()
	sim := vbstest.NewServer(vbstest.Options{AccessKey: "E2EACCESSKEY0001", SecretKey: "e2e-secret-key-Vx71"})
	t.Cleanup(sim.Close)
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "sk"), []byte(sim.Options().SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim
}

// SimTargetYAML is a config file entry for sim: AK/SK, the secret key from
// a file given relative to the config file (see SimWithKeyFile); extra is
// inserted before the auth block (indented keys, each ending in "\n").
func SimTargetYAML(name string, sim *vbstest.Server, extra string) string {
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
