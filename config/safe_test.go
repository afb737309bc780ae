package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSafeConfigReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	sc := NewSafeConfig(reg)
	sc.now = func() time.Time { return time.UnixMilli(1700000000123) }
	if sc.Get() != nil {
		t.Fatal("Get before the first load is not nil")
	}
	var reloaded []string
	sc.OnReload(func(c *Config) { reloaded = append(reloaded, c.Targets[0].Name) })

	write(prod(""))
	if err := sc.ReloadConfig(path, defaultEnv.lookup); err != nil {
		t.Fatal(err)
	}
	first := sc.Get()
	if first == nil || first.Targets[0].Name != "prod" {
		t.Fatalf("Get = %+v", first)
	}
	expect := func(successful float64, ts float64) {
		t.Helper()
		want := `
# HELP vbs_exporter_config_last_reload_success_timestamp_seconds Unix time of the last successful configuration reload.
# TYPE vbs_exporter_config_last_reload_success_timestamp_seconds gauge
vbs_exporter_config_last_reload_success_timestamp_seconds ` + prometheusFloat(ts) + `
# HELP vbs_exporter_config_last_reload_successful Whether the last configuration reload attempt was successful (1) or not (0).
# TYPE vbs_exporter_config_last_reload_successful gauge
vbs_exporter_config_last_reload_successful ` + prometheusFloat(successful) + `
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	}
	expect(1, 1700000000.123)

	// A bad file keeps the running config and reports failure.
	write(prod("    lookback: 7x\n"))
	sc.now = func() time.Time { return time.UnixMilli(1800000000000) }
	err := sc.ReloadConfig(path, defaultEnv.lookup)
	want := path + `:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit "x" in duration "7x"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if sc.Get() != first {
		t.Error("a failed reload replaced the config")
	}
	expect(0, 1700000000.123)

	// A missing file too.
	if err := sc.ReloadConfig(filepath.Join(dir, "missing.yml"), nil); err == nil {
		t.Error("no error for a missing file")
	}
	expect(0, 1700000000.123)

	// A good file again.
	write(strings.Replace(prod(""), "name: prod", "name: second", 1))
	if err := sc.ReloadConfig(path, defaultEnv.lookup); err != nil {
		t.Fatal(err)
	}
	if got := sc.Get().Targets[0].Name; got != "second" {
		t.Errorf("after reload: %s", got)
	}
	expect(1, 1800000000)
	if strings.Join(reloaded, ",") != "prod,second" {
		t.Errorf("callbacks saw %v", reloaded)
	}

	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func prometheusFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func TestSafeConfigConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(prod("")), 0o600); err != nil {
		t.Fatal(err)
	}
	sc := NewSafeConfig(nil)
	if err := sc.ReloadConfig(path, defaultEnv.lookup); err != nil {
		t.Fatal(err)
	}
	var seen sync.Map
	sc.OnReload(func(c *Config) { seen.Store(c, true) })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := sc.Get()
				if tg, ok := targetOf(c, "prod"); !ok || tg.PageSize != DefaultPageSize {
					t.Errorf("inconsistent config: %+v", tg)
					return
				}
				if _, err := c.Redacted(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var reloaders sync.WaitGroup
	for range 4 {
		reloaders.Add(1)
		go func() {
			defer reloaders.Done()
			for range 20 {
				if err := sc.ReloadConfig(path, defaultEnv.lookup); err != nil {
					t.Error(err)
				}
				sc.OnReload(func(*Config) {})
			}
		}()
	}
	reloaders.Wait()
	close(stop)
	wg.Wait()
	n := 0
	seen.Range(func(_, _ any) bool { n++; return true })
	// Concurrent reloads coalesce: each of the 80 calls is answered by a
	// reload that started after it, so at least the 20 calls of one
	// goroutine ran apart, and at most 80 reloads ran.
	if n < 20 || n > 80 {
		t.Errorf("callback saw %d configs, want 20 to 80", n)
	}
}

func TestNewSafeConfigRegistersOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewSafeConfig(reg)
	defer func() {
		if recover() == nil {
			t.Error("registering twice did not panic")
		}
	}()
	NewSafeConfig(reg)
}
