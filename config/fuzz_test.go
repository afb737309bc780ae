package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Distinctive secret values the fuzzer's files and environment hold; no
// output of Parse or Redacted may ever contain them.
const (
	fuzzFileSecret  = "FUZZ-FILE-SECRET-7f3a9c"
	fuzzEnvSK       = "FUZZ-ENV-SK-SECRET-1b2c"
	fuzzEnvToken    = "FUZZ-ENV-TOKEN-SECRET-9d8e"
	fuzzChangedMark = "changed-secret-"
)

// FuzzParse checks that Parse never panics, that its errors never contain a
// secret read from a file or the environment, and that the Redacted output
// of a configuration it accepts holds no secret: it does not change when
// every secret value is replaced, and it parses back to the same output.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"targets: []\n",
		prod(""),
		prod("    auth:\n      access_key: AK\n      secret_key: inline-sk\n      security_token: tok\n"),
		prod("    auth:\n      access_key_file: sk\n      secret_key_file: sk\n      security_token_file: sk\n    policies: [a, b]\n    lookback: 1w\n"),
		prod("    auth:\n      domain: d\n      user: u\n      password_file: sk\n      iam_endpoint: https://iam.example.com/\n"),
		prod("    auth: {domain: d, user: u, password: pw}\n    endpoint: http://127.0.0.1:1/x\n    page_size: 1000\n    concurrency: 1\n    min_refresh_interval: 30s\n"),
		prod("    auth: &a {access_key: AK, secret_key: s}\n  - name: b\n    region: eu-de\n    project_id: p\n    auth: *a\n"),
		prod("    auth:\n      access_key: AK\n      secret_key: SK\n      user: u\n"),
		prod("    auth:\n      secret_key_file: dir\n      access_key: A\n"),
		prod("    auth:\n      secret_key_file: /dev/zero\n      access_key: A\n"),
		prod("    lookback: -1h\n    page_size: 0\n    policies: [a, a]\n"),
		prod("    regoin: x\n    endpoint: https://u:p@h/\n"),
		"targets:\n  - name: [x\n",
		"targets: *x\n",
		"a: &a [*a]\n",
		"targets:\n  - &t {name: a, region: b, project_id: c}\n  - *t\n",
		"targets: !!binary aGk=\n",
		"---\n---\ntargets: []\n",
		prod("---\n"),
		"targets:\n  - name: env-project\n    region: cn-north-4\n",
		"targets:\n  - {name: a, region: b, project_id: \"\", auth: {access_key: A, secret_key: S}}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sk"), []byte(fuzzFileSecret+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		f.Fatal(err)
	}
	e := env{envAccessKey: "FUZZ-ENV-AK", envSecretKey: fuzzEnvSK, envSecurityToken: fuzzEnvToken, envProjectID: "fuzz-env-project"}
	secrets := []string{fuzzFileSecret, fuzzEnvSK, fuzzEnvToken}

	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("FUZZ-")) {
			t.Skip() // the input itself would hold the marker
		}
		c, err := Parse(data, "fuzz.yml", dir, e.lookup)
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error leaks a secret: %v", err)
				}
			}
			return
		}
		out, err := c.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		for _, s := range secrets {
			if bytes.Contains(out, []byte(s)) {
				t.Fatalf("Redacted leaks a secret:\n%s", out)
			}
		}

		// Replacing every secret value must not change the output.
		changed := &Config{Targets: make([]Target, len(c.Targets))}
		change := func(s Secret) Secret {
			if s == "" {
				return ""
			}
			return Secret(fuzzChangedMark + string(s) + "x")
		}
		for i, tg := range c.Targets {
			if tg.Auth != nil {
				a := *tg.Auth
				a.SecretKey, a.SecurityToken, a.Password = change(a.SecretKey), change(a.SecurityToken), change(a.Password)
				tg.Auth = &a
			}
			cr := &tg.Credentials
			cr.SecretKey, cr.SecurityToken, cr.Password = change(cr.SecretKey), change(cr.SecurityToken), change(cr.Password)
			changed.Targets[i] = tg
		}
		out2, err := changed.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("Redacted output depends on secret values:\n%s\n---\n%s", out, out2)
		}

		// The output is a valid configuration that redacts to itself.
		c3, err := Parse(out, "redacted.yml", dir, e.lookup)
		if err != nil {
			t.Fatalf("Redacted output does not parse: %v\n%s", err, out)
		}
		out3, err := c3.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if !bytes.Equal(out, out3) {
			t.Fatalf("round trip changed the output:\n%s\n---\n%s", out, out3)
		}
	})
}
