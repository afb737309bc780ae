package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A reload's answer and log never hold a secret of any target, whatever
// YAML form it is written in, and a config file replaced by a FIFO fails at
// once without holding the reload lock.
func TestReloadNeverEchoesSecrets(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	ta := newTestApp(t, e.cfgPath, testAppOptions{timeoutOffset: time.Second})
	a, logs := ta.app, ta.logs
	post := func() (int, string) {
		rec := httptest.NewRecorder()
		a.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec.Code, rec.Body.String()
	}
	lineOf := func(text, line string) string {
		return e.cfgPath + ":" + strconv.Itoa(slices.Index(strings.Split(text, "\n"), line)+1)
	}

	// beta's secret key written as an alias: yaml.v3 would quote it.
	text := strings.Replace(e.alphaBetaConfig("", ""), "secret_key: "+htSKB, "secret_key: *"+htSKB, 1)
	e.writeConfig(text)
	code, body := post()
	want := "failed to reload config: " + lineOf(text, "      secret_key: *"+htSKB) +
		": field auth.secret_key: invalid YAML (details not shown: the line holds a secret)\n"
	if code != http.StatusInternalServerError || body != want {
		t.Errorf("reload with a YAML-like secret: %d %q, want 500 %q", code, body, want)
	}

	// alpha's policies quote beta's inline secret and alpha's file secret.
	text = e.alphaBetaConfig(`    policies: ["`+htSKB+`/x", "`+htSKA+`/y"]`+"\n", "")
	e.writeConfig(text)
	code, body = post()
	at := lineOf(text, `    policies: ["`+htSKB+`/x", "`+htSKA+`/y"]`)
	want = "failed to reload config: " + at + ": target \"alpha\": field policies[0]: invalid policy ID \"<secret>/x\": use only letters, digits, '_' and '-'\n" +
		at + ": target \"alpha\": field policies[1]: invalid policy ID \"<secret>/y\": use only letters, digits, '_' and '-'\n"
	if code != http.StatusInternalServerError || body != want {
		t.Errorf("reload quoting other targets' secrets: %d\n%q\nwant 500\n%q", code, body, want)
	}

	// A FIFO in place of the file fails at once; the next reload works.
	if err := os.Remove(e.cfgPath); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(e.cfgPath, 0o600); err != nil {
		t.Skipf("no FIFOs: %v", err)
	}
	code, body = post()
	if want := "failed to reload config: reading config file: read " + e.cfgPath + ": not a regular file (a FIFO)\n"; code != http.StatusInternalServerError || body != want {
		t.Errorf("reload of a FIFO: %d %q, want 500 %q", code, body, want)
	}
	if err := os.Remove(e.cfgPath); err != nil {
		t.Fatal(err)
	}
	e.writeConfig(e.alphaBetaConfig("", ""))
	if code, body = post(); code != http.StatusOK {
		t.Errorf("reload after the FIFO: %d %q", code, body)
	}

	for _, s := range []string{htSKA, htSKB, htTokenB} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds a secret:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "invalid policy ID") {
		t.Errorf("the log does not show the reload errors:\n%s", logs.String())
	}
}

// The configuration's warnings are logged at the first load and at every
// reload.
func TestConfigWarningsLogged(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	e.writeConfig(e.alphaBetaConfig("    lookback: 1d\n", ""))
	ta := newTestApp(t, e.cfgPath, testAppOptions{timeoutOffset: time.Second})
	a, logs := ta.app, ta.logs
	if err := a.reload(); err != nil {
		t.Fatal(err)
	}
	line := slices.Index(strings.Split(e.alphaBetaConfig("    lookback: 1d\n", ""), "\n"), "    lookback: 1d") + 1
	want := `msg="configuration warning" warning="` + e.cfgPath + ":" + strconv.Itoa(line) +
		`: target \"alpha\": field lookback: 1d is shorter than 2d, twice the interval of a daily schedule: a daily policy's last run can fall out of it and look missing"`
	n := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, " level=warn ") && strings.HasSuffix(l, want) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the warning was logged %d times, want 2 (load and reload):\n%s", n, logs.String())
	}
}
