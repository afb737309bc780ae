package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// demo is a simulated VBS account on loopback and a config file pointing at it.
type demo struct {
	server     *vbstest.Server
	dir        string
	configFile string
}

// startDemo starts the simulator with the demo account and writes a config
// file that uses it with AK/SK signing, like a real deployment.
func startDemo(logger log.Logger) (*demo, error) {
	srv := vbstest.NewServer(vbstest.Options{})
	srv.Load(vbstest.DemoScenario(time.Now().UTC()))
	dir, err := os.MkdirTemp("", "vbs_exporter-demo-")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("creating the demo directory: %w", err)
	}
	so := srv.Options()
	skFile := filepath.Join(dir, "secret_key")
	if err := os.WriteFile(skFile, []byte(so.SecretKey+"\n"), 0o600); err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("writing the demo secret key: %w", err)
	}
	cfg := fmt.Sprintf(`# Demo configuration written by vbs_exporter --demo.
targets:
  - name: demo
    region: cn-north-4
    project_id: %s
    endpoint: %s
    resource_names: true
    evs_endpoint: %s
    auth:
      access_key: %s
      secret_key_file: %s
`, so.ProjectID, srv.URL(), srv.URL(), so.AccessKey, skFile)
	cfgFile := filepath.Join(dir, "vbs.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("writing the demo config: %w", err)
	}
	level.Info(logger).Log("msg", "demo mode: serving a simulated VBS account", "vbs_endpoint", srv.URL(), "config_file", cfgFile)
	return &demo{server: srv, dir: dir, configFile: cfgFile}, nil
}

// Close stops the simulator and removes the demo files.
func (d *demo) Close() {
	d.server.Close()
	os.RemoveAll(d.dir)
}
