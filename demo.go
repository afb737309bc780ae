package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// demo is a simulated VBS account and a simulated CBR account on loopback
// and a config file pointing at them: targets "demo" (VBS) and "demo-cbr".
type demo struct {
	server     *vbstest.Server
	cbr        *cbrtest.Server
	dir        string
	configFile string
}

// startDemo starts the simulators with the demo accounts and writes a
// config file that uses them with AK/SK signing, like a real deployment.
func startDemo(logger log.Logger) (*demo, error) {
	now := time.Now().UTC()
	srv := vbstest.NewServer(vbstest.Options{})
	srv.Load(vbstest.DemoScenario(now))
	cbrSrv := cbrtest.NewServer(cbrtest.Options{})
	cbrSrv.Load(cbrtest.DemoScenario(now))
	d := &demo{server: srv, cbr: cbrSrv}
	dir, err := os.MkdirTemp("", "vbs_exporter-demo-")
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("creating the demo directory: %w", err)
	}
	d.dir = dir
	so, co := srv.Options(), cbrSrv.Options()
	skFile := filepath.Join(dir, "secret_key")
	cbrSKFile := filepath.Join(dir, "cbr_secret_key")
	for _, f := range []struct{ name, sk string }{{skFile, so.SecretKey}, {cbrSKFile, co.SecretKey}} {
		if err := os.WriteFile(f.name, []byte(f.sk+"\n"), 0o600); err != nil {
			d.Close()
			return nil, fmt.Errorf("writing the demo secret key: %w", err)
		}
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
  - name: demo-cbr
    service: cbr
    region: eu-west-101
    project_id: %s
    endpoint: %s
    auth:
      access_key: %s
      secret_key_file: %s
`, so.ProjectID, srv.URL(), srv.URL(), so.AccessKey, skFile, co.ProjectID, cbrSrv.URL(), co.AccessKey, cbrSKFile)
	cfgFile := filepath.Join(dir, "vbs.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		d.Close()
		return nil, fmt.Errorf("writing the demo config: %w", err)
	}
	d.configFile = cfgFile
	level.Info(logger).Log("msg", "demo mode: serving a simulated VBS account (target demo) and a simulated CBR account (target demo-cbr)",
		"vbs_endpoint", srv.URL(), "cbr_endpoint", cbrSrv.URL(), "config_file", cfgFile)
	return d, nil
}

// Close stops the simulators and removes the demo files.
func (d *demo) Close() {
	d.server.Close()
	d.cbr.Close()
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}
