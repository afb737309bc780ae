package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is an injectable environment for Parse and Load.
type env map[string]string

func (e env) lookup(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// defaultEnv supplies AK/SK so that targets without auth parse.
var defaultEnv = env{envAccessKey: "ENV-AK", envSecretKey: "ENV-SK-secret-value"}

// writeFiles creates files (name -> content) in dir; a content of "<dir>"
// makes a directory instead.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if content == "<dir>" {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// prod is a target header on lines 1-4; extra lines start at line 5.
func prod(extra string) string {
	return "targets:\n  - name: prod\n    region: cn-north-4\n    project_id: p1\n" + extra
}

func TestParseValid(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"sk":             "file-sk-value\r\n  \n",
		"secrets/token":  "file-token-value\n",
		"secrets/ak":     "AK-FROM-FILE\n",
		"secrets/pw.txt": "file-password\n",
	})
	abs := filepath.Join(dir, "secrets", "token")
	yml := `# comment
targets:
  - name: prod-cn-north-4
    region: cn-north-4
    project_id: 0605767f2f00d5d22f16c00e4e8f1d4a
    auth:
      access_key: AKXXXX
      secret_key_file: sk
      security_token_file: ` + abs + `
    policies: [af8a20b0-1, 3c1c]
    lookback: 7d
    page_size: 1000
    concurrency: 64
    min_refresh_interval: 30s
    resource_names: true
  - name: inline_1.x
    region: eu-de
    project_id: 12345
    endpoint: https://vbs.eu-de.otc.t-systems.com/
    auth:
      access_key_file: secrets/ak
      secret_key: "inline-sk"
      security_token: inline-token
    policies: []
    lookback: 0
    page_size: 1
    concurrency: 1
    resource_names: false
  - name: pw
    region: ap-southeast-1
    project_id: p3
    endpoint: http://127.0.0.1:8080/vbs
    auth:
      domain: my-account
      user: backup-monitor
      password_file: secrets/pw.txt
      iam_endpoint: https://iam.example.com//
    lookback: 1w2d
    resource_names: True
    evs_endpoint: http://127.0.0.1:8080/evs/
  - name: pw-inline
    region: cn-north-4
    project_id: p4
    auth: {domain: d, user: u, password: "p@ss word", iam_endpoint: ~}
  - name: env
    region: cn-north-4
    project_id: p5
    endpoint:
    auth:
    policies: ~
    lookback: ""
  - name: cbr
    service: cbr
    region: eu-west-101
    project_id: p6
    auth: {access_key: AK6, secret_key: sk6}
    policies: [pol-1]
  - name: cbr-explicit
    service: cbr
    region: cn-north-4
    project_id: p7
    endpoint: http://127.0.0.1:8081/cbr/
    page_size: 200
    auth: {domain: d, user: u, password: pw}
  - name: vbs-explicit
    service: vbs
    region: cn-north-4
    project_id: p8
    auth: {access_key: AK8, secret_key: sk8}
---
`
	e := env{envAccessKey: "ENV-AK", envSecretKey: "env-sk", envSecurityToken: "env-token"}
	c, err := Parse([]byte(yml), "config.yml", dir, e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{
		Name: "prod-cn-north-4", Region: "cn-north-4", ProjectID: "0605767f2f00d5d22f16c00e4e8f1d4a",
		Service: ServiceVBS, Endpoint: "https://vbs.cn-north-4.myhuaweicloud.com",
		Auth:     &Auth{AccessKey: "AKXXXX", SecretKeyFile: "sk", SecurityTokenFile: abs},
		Policies: []string{"af8a20b0-1", "3c1c"}, Lookback: 7 * 24 * time.Hour, PageSize: 1000, Concurrency: 64,
		MinRefreshInterval: 30 * time.Second,
		ResourceNames:      true, EVSEndpoint: "https://evs.cn-north-4.myhuaweicloud.com",
		Credentials: Credentials{Kind: CredentialsAKSK, AccessKey: "AKXXXX", SecretKey: "file-sk-value",
			SecurityToken: "file-token-value", Source: SourceConfig},
	}, {
		Name: "inline_1.x", Region: "eu-de", ProjectID: "12345", Service: ServiceVBS, Endpoint: "https://vbs.eu-de.otc.t-systems.com",
		Auth:     &Auth{AccessKeyFile: "secrets/ak", SecretKey: "inline-sk", SecurityToken: "inline-token"},
		PageSize: 1, Concurrency: 1,
		Credentials: Credentials{Kind: CredentialsAKSK, AccessKey: "AK-FROM-FILE", SecretKey: "inline-sk",
			SecurityToken: "inline-token", Source: SourceConfig},
	}, {
		Name: "pw", Region: "ap-southeast-1", ProjectID: "p3", Service: ServiceVBS, Endpoint: "http://127.0.0.1:8080/vbs",
		Auth:     &Auth{Domain: "my-account", User: "backup-monitor", PasswordFile: "secrets/pw.txt", IAMEndpoint: "https://iam.example.com//"},
		Lookback: 9 * 24 * time.Hour, PageSize: 100, Concurrency: 4,
		ResourceNames: true, EVSEndpoint: "http://127.0.0.1:8080/evs",
		Credentials: Credentials{Kind: CredentialsPassword, IAMEndpoint: "https://iam.example.com", Domain: "my-account",
			User: "backup-monitor", Password: "file-password", Source: SourceConfig},
	}, {
		Name: "pw-inline", Region: "cn-north-4", ProjectID: "p4", Service: ServiceVBS, Endpoint: "https://vbs.cn-north-4.myhuaweicloud.com",
		Auth:     &Auth{Domain: "d", User: "u", Password: "p@ss word"},
		PageSize: 100, Concurrency: 4,
		Credentials: Credentials{Kind: CredentialsPassword, IAMEndpoint: "https://iam.cn-north-4.myhuaweicloud.com",
			Domain: "d", User: "u", Password: "p@ss word", Source: SourceConfig},
	}, {
		Name: "env", Region: "cn-north-4", ProjectID: "p5", Service: ServiceVBS, Endpoint: "https://vbs.cn-north-4.myhuaweicloud.com",
		PageSize: 100, Concurrency: 4,
		Credentials: Credentials{Kind: CredentialsAKSK, AccessKey: "ENV-AK", SecretKey: "env-sk", SecurityToken: "env-token", Source: SourceEnv},
	}, {
		// CBR: the CBR endpoint (eu-west-101 is on .com for CBR), page size 1000.
		Name: "cbr", Region: "eu-west-101", ProjectID: "p6", Service: ServiceCBR, Endpoint: "https://cbr.eu-west-101.myhuaweicloud.com",
		Auth: &Auth{AccessKey: "AK6", SecretKey: "sk6"}, Policies: []string{"pol-1"}, PageSize: 1000, Concurrency: 4,
		Credentials: Credentials{Kind: CredentialsAKSK, AccessKey: "AK6", SecretKey: "sk6", Source: SourceConfig},
	}, {
		Name: "cbr-explicit", Region: "cn-north-4", ProjectID: "p7", Service: ServiceCBR, Endpoint: "http://127.0.0.1:8081/cbr",
		Auth: &Auth{Domain: "d", User: "u", Password: "pw"}, PageSize: 200, Concurrency: 4,
		Credentials: Credentials{Kind: CredentialsPassword, IAMEndpoint: "https://iam.cn-north-4.myhuaweicloud.com",
			Domain: "d", User: "u", Password: "pw", Source: SourceConfig},
	}, {
		Name: "vbs-explicit", Region: "cn-north-4", ProjectID: "p8", Service: ServiceVBS, Endpoint: "https://vbs.cn-north-4.myhuaweicloud.com",
		Auth: &Auth{AccessKey: "AK8", SecretKey: "sk8"}, PageSize: 100, Concurrency: 4,
		Credentials: Credentials{Kind: CredentialsAKSK, AccessKey: "AK8", SecretKey: "sk8", Source: SourceConfig},
	}}
	if len(c.Targets) != len(want) {
		t.Fatalf("got %d targets, want %d", len(c.Targets), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(c.Targets[i], want[i]) {
			// %#v hides secrets, so compare them separately for a useful message.
			t.Errorf("target %d:\n got %#v\nwant %#v", i, c.Targets[i], want[i])
			g, w := c.Targets[i].Credentials, want[i].Credentials
			if g.SecretKey != w.SecretKey || g.SecurityToken != w.SecurityToken || g.Password != w.Password {
				t.Errorf("target %d: secrets differ: got %q %q %q", i, string(g.SecretKey), string(g.SecurityToken), string(g.Password))
			}
		}
	}

	for _, w := range want {
		got, ok := targetOf(c, w.Name)
		if !ok || got.Name != w.Name {
			t.Errorf("Target(%q) = %v, %v", w.Name, got.Name, ok)
		}
	}
	if _, ok := targetOf(c, "nope"); ok {
		t.Error(`Target("nope") found`)
	}
}

func TestParseAliasesShareAuth(t *testing.T) {
	yml := `targets:
  - name: a
    region: cn-north-4
    project_id: p1
    auth: &shared
      access_key: AK
      secret_key: SK
    policies: &pols [x, y]
  - name: b
    region: cn-north-4
    project_id: p2
    auth: *shared
    policies: *pols
`
	c, err := Parse([]byte(yml), "config.yml", "", env{}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := targetOf(c, "b")
	if b.Credentials.AccessKey != "AK" || b.Credentials.SecretKey != "SK" || !reflect.DeepEqual(b.Policies, []string{"x", "y"}) {
		t.Errorf("aliased target b = %+v", b)
	}
}

func TestParseErrors(t *testing.T) {
	bigSecret := strings.Repeat("x", maxSecretFileSize+1)
	cases := []struct {
		name  string
		yml   string
		files map[string]string
		env   env // defaultEnv when nil
		want  string
	}{
		// File structure.
		{name: "empty file", yml: "",
			want: `config.yml: field targets: at least one target is required (the file is empty)`},
		{name: "only comments", yml: "# nothing\n",
			want: `config.yml: field targets: at least one target is required (the file is empty)`},
		{name: "null document", yml: "~\n",
			want: `config.yml: field targets: at least one target is required (the file is empty)`},
		{name: "empty targets list", yml: "targets: []\n",
			want: `config.yml:1: field targets: at least one target is required`},
		{name: "null targets", yml: "\ntargets:\n",
			want: `config.yml:2: field targets: at least one target is required`},
		{name: "unknown top-level key, no targets", yml: "target:\n  - name: x\n",
			want: "config.yml:1: unknown field \"target\"\nconfig.yml:1: field targets: at least one target is required"},
		{name: "top level is a list", yml: "- name: x\n",
			want: `config.yml:1: expected a mapping with a targets list at the top level, got a list`},
		{name: "targets is a mapping", yml: "targets:\n  name: x\n",
			want: `config.yml:1: field targets: expected a list of targets, got a mapping`},
		// yaml.v3 gives the line where the construct in error began.
		{name: "unclosed flow list", yml: "targets:\n  - name: [x\n",
			want: `config.yml:2: invalid YAML: did not find expected ',' or ']'`},
		{name: "unclosed flow list on line 1", yml: "targets: [x",
			want: `config.yml:1: invalid YAML: did not find expected ',' or ']'`},
		{name: "unclosed flow list at the end", yml: "targets: [x\n",
			want: `config.yml:1: invalid YAML: did not find expected ',' or ']'`},
		{name: "bad sequence indentation", yml: "targets:\n  - name: x\n   region: y\n",
			want: `config.yml:2: invalid YAML: did not find expected '-' indicator`},
		{name: "bad mapping indentation", yml: "targets:\n  - name: x\n    region: y\n      project_id: p\n",
			want: `config.yml:4: invalid YAML: mapping values are not allowed in this context`},
		{name: "tab indentation", yml: "targets:\n\t- name: x\n",
			want: `config.yml:2: invalid YAML: found character that cannot start any token`},
		{name: "control character", yml: "targets:\x01\n",
			want: `config.yml:1: invalid YAML: control characters are not allowed`},
		{name: "unknown anchor", yml: "targets: *nope\n",
			want: `config.yml:1: invalid YAML: unknown anchor 'nope' referenced`},
		{name: "two documents", yml: prod("---\ntargets: []\n"),
			want: `config.yml:5: only one YAML document is allowed`},
		{name: "duplicate top-level key", yml: prod("targets: []\n"),
			want: `config.yml:5: field targets: set twice (first at line 1)`},
		{name: "alias bomb", yml: "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n" +
			"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
			"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
			want: `config.yml: the document expands to more than 200000 YAML nodes through aliases`},
		{name: "quadratic aliases", yml: "targets:\n  - &t {name: a, region: b, project_id: c, policies: &p [" +
			strings.Repeat("x,", 500) + "y]}\n" + strings.Repeat("  - *t\n", 500),
			want: `config.yml: the document expands to more than 200000 YAML nodes through aliases`},
		{name: "self-referencing alias", yml: "targets: &t\n  - name: a\n    region: b\n    project_id: c\n    policies: *t\n",
			want: `config.yml:2: target "a": field policies[0]: expected a policy ID, got a mapping`},
		{name: "target is a scalar", yml: "targets:\n  - prod\n",
			want: `config.yml:2: target #1: expected a mapping, got a scalar`},

		// Target fields.
		{name: "unknown target key", yml: prod("    lookbak: 7d\n"),
			want: `config.yml:5: target "prod": unknown field "lookbak"`},
		{name: "non-string key", yml: prod("    ? [a]\n    : b\n"),
			want: `config.yml:5: target "prod": keys must be strings, got a list`},
		{name: "duplicate target key", yml: prod("    region: eu-de\n"),
			want: `config.yml:5: target "prod": field region: set twice (first at line 3)`},
		{name: "missing name", yml: "targets:\n  - region: cn-north-4\n    project_id: p1\n",
			want: `config.yml:2: target #1: field name: required`},
		{name: "empty name", yml: "targets:\n  - name: \"\"\n    region: cn-north-4\n    project_id: p1\n",
			want: `config.yml:2: target #1: field name: required`},
		{name: "name is a list", yml: "targets:\n  - name: [a]\n    region: cn-north-4\n    project_id: p1\n",
			want: `config.yml:2: target #1: field name: expected a string, got a list`},
		{name: "bad name chars", yml: "targets:\n  - name: prod/cn north\n    region: cn-north-4\n    project_id: p1\n",
			want: `config.yml:2: target "prod/cn north": field name: invalid target name: use only letters, digits, '_', '.' and '-'`},
		{name: "missing region", yml: "targets:\n  - name: prod\n    project_id: p1\n",
			want: `config.yml:2: target "prod": field region: required`},
		{name: "null region", yml: "targets:\n  - name: prod\n    region:\n    project_id: p1\n",
			want: `config.yml:3: target "prod": field region: required`},
		{name: "bad region", yml: "targets:\n  - name: prod\n    region: CN_North\n    project_id: p1\n",
			want: `config.yml:3: target "prod": field region: invalid region "CN_North": use lowercase letters, digits and '-'`},
		{name: "unknown service", yml: prod("    service: csbs\n"),
			want: `config.yml:5: target "prod": field service: unknown service "csbs": use "vbs" or "cbr"`},
		{name: "service in capitals", yml: prod("    service: CBR\n"),
			want: `config.yml:5: target "prod": field service: unknown service "CBR": use "vbs" or "cbr"`},
		{name: "resource_names on CBR", yml: prod("    service: cbr\n    resource_names: true\n"),
			want: `config.yml:6: target "prod": field resource_names: applies to VBS targets only: CBR jobs carry their resource's name`},
		{name: "evs_endpoint on CBR", yml: prod("    service: cbr\n    evs_endpoint: http://127.0.0.1:1\n"),
			want: `config.yml:6: target "prod": field evs_endpoint: applies to VBS targets only (with resource_names)`},
		{name: "missing project_id", yml: "targets:\n  - name: prod\n    region: cn-north-4\n",
			want: `config.yml:2: target "prod": field project_id: required (or HUAWEICLOUD_SDK_PROJECT_ID in the environment, for a target without auth)`},
		{name: "missing project_id, empty in environment", yml: "targets:\n  - name: prod\n    region: cn-north-4\n    project_id: \"\"\n",
			env:  env{envAccessKey: "AK", envSecretKey: "SK", envProjectID: ""},
			want: `config.yml:4: target "prod": field project_id: required (or HUAWEICLOUD_SDK_PROJECT_ID in the environment, for a target without auth)`},
		{name: "bad project_id from environment", yml: "targets:\n  - name: prod\n    region: cn-north-4\n",
			env:  env{envAccessKey: "AK", envSecretKey: "SK", envProjectID: "../p1"},
			want: `config.yml:2: target "prod": field project_id: invalid project ID "../p1" from HUAWEICLOUD_SDK_PROJECT_ID: use only letters, digits, '_' and '-'`},
		// With an auth block the environment's project is not used: it need
		// not belong to the account of those credentials.
		{name: "missing project_id with auth", yml: "targets:\n  - name: prod\n    region: cn-north-4\n    auth: {access_key: AK, secret_key: SK}\n",
			env:  env{envProjectID: "envproject"},
			want: `config.yml:2: target "prod": field project_id: required`},
		{name: "null project_id with password auth", yml: "targets:\n  - name: prod\n    region: cn-north-4\n    project_id:\n    auth: {domain: d, user: u, password: pw}\n",
			env:  env{envProjectID: "envproject"},
			want: `config.yml:4: target "prod": field project_id: required`},
		{name: "missing project_id, no credentials in environment", yml: "targets:\n  - name: prod\n    region: cn-north-4\n", env: env{},
			want: "config.yml:2: target \"prod\": field project_id: required (or HUAWEICLOUD_SDK_PROJECT_ID in the environment, for a target without auth)\n" +
				"config.yml:2: target \"prod\": field auth: not set, and the environment lacks HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK"},
		{name: "bad project_id", yml: "targets:\n  - name: prod\n    region: cn-north-4\n    project_id: ../p1\n",
			want: `config.yml:4: target "prod": field project_id: invalid project ID "../p1": use only letters, digits, '_' and '-'`},
		{name: "binary tag", yml: "targets:\n  - name: prod\n    region: cn-north-4\n    project_id: !!binary cDE=\n",
			want: `config.yml:4: target "prod": field project_id: unsupported tag "!!binary"`},
		{name: "all required missing", yml: "targets:\n  - {}\n",
			want: "config.yml:2: target #1: field name: required\n" +
				"config.yml:2: target #1: field region: required\n" +
				"config.yml:2: target #1: field project_id: required (or HUAWEICLOUD_SDK_PROJECT_ID in the environment, for a target without auth)"},
		{name: "duplicate target names", yml: prod("  - name: other\n    region: eu-de\n    project_id: p2\n  - name: prod\n    region: eu-de\n    project_id: p3\n"),
			want: `config.yml:8: target "prod": field name: duplicate target name (first defined at line 2)`},

		// Endpoints.
		{name: "endpoint without scheme", yml: prod("    endpoint: vbs.example.com\n"),
			want: `config.yml:5: target "prod": field endpoint: must be an absolute http:// or https:// URL`},
		{name: "endpoint ftp", yml: prod("    endpoint: ftp://vbs.example.com\n"),
			want: `config.yml:5: target "prod": field endpoint: must be an absolute http:// or https:// URL`},
		{name: "endpoint without host", yml: prod("    endpoint: https://\n"),
			want: `config.yml:5: target "prod": field endpoint: must be an absolute http:// or https:// URL`},
		{name: "endpoint unparsable", yml: prod("    endpoint: http://[::1\n"),
			want: `config.yml:5: target "prod": field endpoint: invalid URL: missing ']' in host`},
		{name: "endpoint with password", yml: prod("    endpoint: https://user:hunter2@vbs.example.com\n"),
			want: `config.yml:5: target "prod": field endpoint: must not contain a user name or password`},
		{name: "endpoint with query", yml: prod("    endpoint: https://vbs.example.com/?x=1\n"),
			want: `config.yml:5: target "prod": field endpoint: must not have a query or fragment`},
		{name: "endpoint is a mapping", yml: prod("    endpoint: {url: x}\n"),
			want: `config.yml:5: target "prod": field endpoint: expected a URL, got a mapping`},
		{name: "iam_endpoint bad", yml: prod("    auth:\n      domain: d\n      user: u\n      password: pw\n      iam_endpoint: iam.example.com\n"),
			want: `config.yml:9: target "prod": field auth.iam_endpoint: must be an absolute http:// or https:// URL`},

		// Policies.
		{name: "duplicate policies", yml: prod("    policies:\n      - a\n      - b\n      - a\n"),
			want: `config.yml:8: target "prod": field policies[2]: duplicate policy ID "a" (first listed at line 6)`},
		{name: "policies not a list", yml: prod("    policies: a\n"),
			want: `config.yml:5: target "prod": field policies: expected a list of policy IDs, got a scalar`},
		{name: "empty policy", yml: prod("    policies: [a, \"\"]\n"),
			want: `config.yml:5: target "prod": field policies[1]: empty policy ID`},
		{name: "bad policy", yml: prod("    policies: [a/b]\n"),
			want: `config.yml:5: target "prod": field policies[0]: invalid policy ID "a/b": use only letters, digits, '_' and '-'`},
		{name: "policy is a list", yml: prod("    policies: [[a]]\n"),
			want: `config.yml:5: target "prod": field policies[0]: expected a policy ID, got a list`},

		// Durations and numbers.
		{name: "bad lookback unit", yml: prod("    lookback: 7x\n"),
			want: `config.yml:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit "x" in duration "7x"`},
		{name: "fractional lookback", yml: prod("    lookback: 1.5h\n"),
			want: `config.yml:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit "." in duration "1.5h"`},
		{name: "lookback without unit", yml: prod("    lookback: 3600\n"),
			want: `config.yml:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): not a valid duration string: "3600"`},
		{name: "lookback out of range", yml: prod("    lookback: 300y\n"),
			want: `config.yml:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): duration out of range`},
		{name: "negative lookback", yml: prod("    lookback: -1h\n"),
			want: `config.yml:5: target "prod": field lookback: must not be negative, got "-1h"`},
		{name: "lookback is a list", yml: prod("    lookback: [1h]\n"),
			want: `config.yml:5: target "prod": field lookback: expected a duration, got a list`},
		{name: "bad min_refresh_interval", yml: prod("    min_refresh_interval: soon\n"),
			want: `config.yml:5: target "prod": field min_refresh_interval: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): not a valid duration string: "soon"`},
		{name: "negative min_refresh_interval", yml: prod("    min_refresh_interval: -30s\n"),
			want: `config.yml:5: target "prod": field min_refresh_interval: must not be negative, got "-30s"`},
		{name: "page_size zero", yml: prod("    page_size: 0\n"),
			want: `config.yml:5: target "prod": field page_size: must be between 1 and 1000, got 0`},
		{name: "page_size too big", yml: prod("    page_size: 1001\n"),
			want: `config.yml:5: target "prod": field page_size: must be between 1 and 1000, got 1001`},
		{name: "page_size not a number", yml: prod("    page_size: many\n"),
			want: `config.yml:5: target "prod": field page_size: expected an integer between 1 and 1000, got "many"`},
		{name: "page_size float", yml: prod("    page_size: 1.5\n"),
			want: `config.yml:5: target "prod": field page_size: expected an integer between 1 and 1000, got "1.5"`},
		{name: "page_size huge", yml: prod("    page_size: 99999999999999999999\n"),
			want: `config.yml:5: target "prod": field page_size: expected an integer between 1 and 1000, got "99999999999999999999"`},
		{name: "page_size is a list", yml: prod("    page_size: [1]\n"),
			want: `config.yml:5: target "prod": field page_size: expected an integer, got a list`},
		{name: "resource_names not a bool", yml: prod("    resource_names: yes\n"),
			want: `config.yml:5: target "prod": field resource_names: expected true or false, got "yes"`},
		{name: "resource_names a number", yml: prod("    resource_names: 1\n"),
			want: `config.yml:5: target "prod": field resource_names: expected true or false, got "1"`},
		{name: "resource_names is a list", yml: prod("    resource_names: [true]\n"),
			want: `config.yml:5: target "prod": field resource_names: expected true or false, got a list`},
		{name: "evs_endpoint bad", yml: prod("    resource_names: true\n    evs_endpoint: evs.example.com\n"),
			want: `config.yml:6: target "prod": field evs_endpoint: must be an absolute http:// or https:// URL`},
		{name: "concurrency zero", yml: prod("    concurrency: 0\n"),
			want: `config.yml:5: target "prod": field concurrency: must be between 1 and 64, got 0`},
		{name: "concurrency negative", yml: prod("    concurrency: -4\n"),
			want: `config.yml:5: target "prod": field concurrency: must be between 1 and 64, got -4`},
		{name: "concurrency too big", yml: prod("    concurrency: 65\n"),
			want: `config.yml:5: target "prod": field concurrency: must be between 1 and 64, got 65`},

		// Auth structure.
		{name: "unknown auth key", yml: prod("    auth:\n      acess_key: AK\n      secret_key: SK\n"),
			want: `config.yml:6: target "prod": field auth: unknown field "acess_key"`},
		{name: "duplicate auth key", yml: prod("    auth:\n      access_key: AK\n      secret_key: SK\n      access_key: AK2\n"),
			want: `config.yml:8: target "prod": field auth.access_key: set twice (first at line 6)`},
		{name: "auth is a list", yml: prod("    auth: [a]\n"),
			want: `config.yml:5: target "prod": field auth: expected a mapping, got a list`},
		{name: "auth secret is a list", yml: prod("    auth:\n      access_key: AK\n      secret_key: [SK]\n"),
			want: `config.yml:7: target "prod": field auth.secret_key: expected a string, got a list`},
		{name: "empty auth", yml: prod("    auth: {}\n"),
			want: `config.yml:5: target "prod": field auth: no credentials: set access_key and secret_key, or domain, user and password (or remove auth to use the environment)`},
		{name: "both auth kinds", yml: prod("    auth:\n      access_key: AK\n      secret_key: SK\n      user: u\n      domain: d\n      password: pw\n"),
			want: `config.yml:5: target "prod": field auth: both AK/SK (access_key) and IAM password (user) are set; choose one`},
		{name: "both auth kinds, files", yml: prod("    auth:\n      password_file: pw\n      secret_key_file: sk\n"),
			want: `config.yml:5: target "prod": field auth: both AK/SK (secret_key_file) and IAM password (password_file) are set; choose one`},
		{name: "access key without secret key", yml: prod("    auth:\n      access_key: AK\n"),
			want: `config.yml:5: target "prod": field auth.secret_key: required for AK/SK authentication (or auth.secret_key_file)`},
		{name: "secret key without access key", yml: prod("    auth:\n      secret_key: SK\n"),
			want: `config.yml:5: target "prod": field auth.access_key: required for AK/SK authentication (or auth.access_key_file)`},
		{name: "security token alone", yml: prod("    auth:\n      security_token_file: st\n"),
			want: "config.yml:5: target \"prod\": field auth.access_key: required for AK/SK authentication (or auth.access_key_file)\n" +
				"config.yml:5: target \"prod\": field auth.secret_key: required for AK/SK authentication (or auth.secret_key_file)"},
		{name: "secret_key and secret_key_file", yml: prod("    auth:\n      access_key: AK\n      secret_key: SK\n      secret_key_file: sk\n"),
			want: `config.yml:8: target "prod": field auth: both secret_key and secret_key_file are set; choose one`},
		{name: "access_key and access_key_file", yml: prod("    auth:\n      access_key: AK\n      access_key_file: ak\n      secret_key: SK\n"),
			want: `config.yml:7: target "prod": field auth: both access_key and access_key_file are set; choose one`},
		{name: "security_token and security_token_file", yml: prod("    auth:\n      access_key: AK\n      secret_key: SK\n      security_token_file: st\n      security_token: ST\n"),
			want: `config.yml:8: target "prod": field auth: both security_token and security_token_file are set; choose one`},
		{name: "password and password_file", yml: prod("    auth:\n      domain: d\n      user: u\n      password_file: pw\n      password: PW\n"),
			want: `config.yml:8: target "prod": field auth: both password and password_file are set; choose one`},
		{name: "password without user", yml: prod("    auth:\n      domain: d\n      password: pw\n"),
			want: `config.yml:5: target "prod": field auth.user: required for IAM password authentication`},
		{name: "password without domain", yml: prod("    auth:\n      user: u\n      password: pw\n"),
			want: `config.yml:5: target "prod": field auth.domain: required for IAM password authentication`},
		{name: "password alone", yml: prod("    auth:\n      password_file: pw\n"),
			want: "config.yml:5: target \"prod\": field auth.domain: required for IAM password authentication\n" +
				"config.yml:5: target \"prod\": field auth.user: required for IAM password authentication"},
		{name: "user without password", yml: prod("    auth:\n      domain: d\n      user: u\n"),
			want: `config.yml:5: target "prod": field auth.password: required for IAM password authentication (or auth.password_file)`},

		// Secret files.
		{name: "missing secret_key_file", yml: prod("    auth:\n      access_key: AK\n      secret_key_file: missing\n"),
			want: `config.yml:7: target "prod": field auth.secret_key_file: cannot read secret file: no such file or directory`},
		{name: "missing access_key_file", yml: prod("    auth:\n      access_key_file: sub/ak\n      secret_key: SK\n"),
			want: `config.yml:6: target "prod": field auth.access_key_file: cannot read secret file: no such file or directory`},
		{name: "missing security_token_file", yml: prod("    auth:\n      access_key: AK\n      secret_key: SK\n      security_token_file: /nonexistent/vbs/st\n"),
			want: `config.yml:8: target "prod": field auth.security_token_file: cannot read secret file: no such file or directory`},
		{name: "missing password_file", yml: prod("    auth:\n      domain: d\n      user: u\n      password_file: pw\n"),
			want: `config.yml:8: target "prod": field auth.password_file: cannot read secret file: no such file or directory`},
		{name: "secret file is a directory", yml: prod("    auth:\n      access_key: AK\n      secret_key_file: adir\n"),
			files: map[string]string{"adir": "<dir>"},
			want:  `config.yml:7: target "prod": field auth.secret_key_file: cannot read secret file: not a regular file (a directory)`},
		{name: "secret file empty", yml: prod("    auth:\n      access_key: AK\n      secret_key_file: sk\n"),
			files: map[string]string{"sk": " \r\n\n"},
			want:  `config.yml:7: target "prod": field auth.secret_key_file: secret file is empty`},
		{name: "secret file too big", yml: prod("    auth:\n      domain: d\n      user: u\n      password_file: pw\n"),
			files: map[string]string{"pw": bigSecret},
			want:  `config.yml:8: target "prod": field auth.password_file: cannot read secret file: larger than 64 KiB (65536 bytes)`},
		{name: "two unreadable files", yml: prod("    auth:\n      access_key_file: ak\n      secret_key_file: sk\n"),
			files: map[string]string{"ak": ""},
			want: "config.yml:6: target \"prod\": field auth.access_key_file: secret file is empty\n" +
				"config.yml:7: target \"prod\": field auth.secret_key_file: cannot read secret file: no such file or directory"},

		// Environment.
		{name: "no auth, no environment", yml: prod(""), env: env{},
			want: `config.yml:2: target "prod": field auth: not set, and the environment lacks HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK`},
		{name: "no auth, null auth, empty AK", yml: prod("    auth: ~\n"), env: env{envAccessKey: "", envSecretKey: "sk", envSecurityToken: "st"},
			want: `config.yml:2: target "prod": field auth: not set, and the environment lacks HUAWEICLOUD_SDK_AK`},
		{name: "no auth, only AK in environment", yml: prod(""), env: env{envAccessKey: "AK"},
			want: `config.yml:2: target "prod": field auth: not set, and the environment lacks HUAWEICLOUD_SDK_SK`},

		// Several targets: every error is reported, good targets are not.
		{name: "errors in several targets", yml: prod("    page_size: 0\n  - name: ok\n    region: eu-de\n    project_id: p2\n  - name: bad\n    project_id: p3\n    lookback: 2x\n"),
			want: "config.yml:5: target \"prod\": field page_size: must be between 1 and 1000, got 0\n" +
				"config.yml:9: target \"bad\": field region: required\n" +
				"config.yml:11: target \"bad\": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit \"x\" in duration \"2x\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			e := tc.env
			if e == nil {
				e = defaultEnv
			}
			c, err := Parse([]byte(tc.yml), "config.yml", dir, e.lookup)
			if err == nil {
				t.Fatalf("no error; got %d targets", len(c.Targets))
			}
			if c != nil {
				t.Errorf("got a config with the error")
			}
			want := strings.ReplaceAll(tc.want, "{dir}", dir)
			if got := err.Error(); got != want {
				t.Errorf("wrong error\n got: %s\nwant: %s", got, want)
			}
			var ce *configError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not an *Error", err)
			} else if ce.File != "config.yml" {
				t.Errorf("Error.File = %q", ce.File)
			}
		})
	}
}

func TestParseErrorsAreCapped(t *testing.T) {
	yml := "targets:\n" + strings.Repeat("  - {region: cn-north-4, project_id: p}\n", maxErrors+10)
	_, err := Parse([]byte(yml), "config.yml", "", defaultEnv.lookup)
	var want []string
	for i := range maxErrors {
		want = append(want, fmt.Sprintf("config.yml:%d: target #%d: field name: required", i+2, i+1))
	}
	want = append(want, "config.yml: 10 more errors not shown")
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got %v", err)
	}
}

func TestErrorFields(t *testing.T) {
	dir := t.TempDir()
	_, err := Parse([]byte(prod("    auth:\n      access_key: AK\n      secret_key_file: missing\n")), "c.yml", dir, nil)
	var ce *configError
	if !errors.As(err, &ce) {
		t.Fatalf("not an *Error: %v", err)
	}
	want := configError{File: "c.yml", Line: 7, Target: "prod", TargetIndex: 1, Field: "auth.secret_key_file"}
	got := *ce
	got.Err = nil
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}

	// Messages without a file name or line.
	for _, tc := range []struct {
		e    configError
		want string
	}{
		{configError{Err: errors.New("x")}, "x"},
		{configError{Line: 3, TargetIndex: 2, Err: errors.New("x")}, "line 3: target #2: x"},
		{configError{File: "f", Target: "a\nb", Field: "name", Err: errors.New("x")}, `f: target "a\nb": field name: x`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
	}
	if got := quote(strings.Repeat("é", 70)); got != `"`+strings.Repeat("é", 64)+`"...` {
		t.Errorf("quote did not shorten: %s", got)
	}
}

func TestSecretFileContentNeverInErrors(t *testing.T) {
	// A file holding a secret, named where a directory is expected, and a
	// secret file that is read fine next to errors elsewhere.
	dir := t.TempDir()
	const secret = "TOP-SECRET-CONTENT-4711"
	writeFiles(t, dir, map[string]string{"sk": secret + "\n"})
	yml := prod("    auth:\n      access_key: AK\n      secret_key_file: sk/inner\n") +
		"  - name: two\n    region: eu-de\n    project_id: p\n    page_size: 0\n    auth:\n      access_key: AK\n      secret_key_file: sk\n"
	_, err := Parse([]byte(yml), "config.yml", dir, env{}.lookup)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the secret: %v", err)
	}
	// Nor does it quote the path: a secret pasted into a *_file field would
	// come back in the error. The line names the value instead.
	if strings.Contains(err.Error(), "inner") {
		t.Errorf("error quotes the secret file's path: %v", err)
	}
	if !strings.Contains(err.Error(), `config.yml:7: target "prod": field auth.secret_key_file: cannot read secret file: not a directory`) {
		t.Errorf("error does not name the line and field: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"etc/config.yml": prod("    auth:\n      access_key: AK\n      secret_key_file: ../secrets/sk\n"),
		"secrets/sk":     "sk-from-file\n",
		"etc/broken.yml": prod("    lookback: 7x\n"),
	})
	c, err := Load(filepath.Join(dir, "etc", "config.yml"), env{}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Targets[0].Credentials.SecretKey; got != "sk-from-file" {
		t.Errorf("secret key = %q", string(got))
	}

	path := filepath.Join(dir, "etc", "broken.yml")
	_, err = Load(path, defaultEnv.lookup)
	want := path + `:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit "x" in duration "7x"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	path = filepath.Join(dir, "nope.yml")
	_, err = Load(path, nil)
	if want := "reading config file: open " + path + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error does not wrap fs.ErrNotExist: %v", err)
	}
}

func TestLoadDefaultsToProcessEnvironment(t *testing.T) {
	t.Setenv(envAccessKey, "PROC-AK")
	t.Setenv(envSecretKey, "proc-sk")
	t.Setenv(envSecurityToken, "")
	c, err := Parse([]byte(prod("")), "config.yml", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	cr := c.Targets[0].Credentials
	if cr.AccessKey != "PROC-AK" || cr.SecretKey != "proc-sk" || cr.SecurityToken != "" || cr.Source != SourceEnv {
		t.Errorf("credentials = %+v (sk %q)", cr, string(cr.SecretKey))
	}
}

func TestRedacted(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"sk": "file-sk-SECRET\n", "pw": "file-pw-SECRET\n"})
	yml := `targets:
  - name: aksk
    region: cn-north-4
    project_id: p1
    auth:
      access_key: AKVISIBLE
      secret_key: inline-sk-SECRET
      security_token: inline-token-SECRET
    policies: [b, a]
    lookback: 168h
    min_refresh_interval: 90s
  - name: files
    region: eu-de
    project_id: p2
    endpoint: https://vbs.example.com/
    auth:
      access_key: AK2
      secret_key_file: sk
    page_size: 50
    concurrency: 8
  - name: password
    region: cn-north-4
    project_id: p3
    auth:
      domain: d
      user: u
      password_file: pw
    lookback: 36h
  - name: password-inline
    region: cn-north-4
    project_id: p3
    auth:
      domain: d
      user: u
      password: inline-pw-SECRET
      iam_endpoint: https://iam.example.com
  - name: env
    region: cn-north-4
    project_id: p4
  - name: env-token
    region: cn-north-4
    project_id: p5
  - name: env-project
    region: cn-north-4
`
	envs := env{envAccessKey: "ENVAK", envSecretKey: "env-sk-SECRET", envSecurityToken: "env-token-SECRET", envProjectID: "envproject"}
	c, err := Parse([]byte(yml), "config.yml", dir, envs.lookup)
	if err != nil {
		t.Fatal(err)
	}
	// Drop the token for target "env" to show both comments.
	c.Targets[4].Credentials.SecurityToken = ""
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	want := `targets:
  - name: aksk # credentials: temporary AK/SK with security token
    region: cn-north-4
    project_id: p1
    service: vbs
    endpoint: https://vbs.cn-north-4.myhuaweicloud.com
    auth:
      access_key: AKVISIBLE
      secret_key: <secret>
      security_token: <secret>
    policies:
      - b
      - a
    lookback: 1w
    page_size: 100
    concurrency: 4
    min_refresh_interval: 1m30s
  - name: files # credentials: AK/SK
    region: eu-de
    project_id: p2
    service: vbs
    endpoint: https://vbs.example.com
    auth:
      access_key: AK2
      secret_key_file: sk
    lookback: 0s # auto: max(7d, 3 x the policy's expected interval)
    page_size: 50
    concurrency: 8
    min_refresh_interval: 0s
  - name: password # credentials: IAM password
    region: cn-north-4
    project_id: p3
    service: vbs
    endpoint: https://vbs.cn-north-4.myhuaweicloud.com
    auth:
      iam_endpoint: https://iam.cn-north-4.myhuaweicloud.com
      domain: d
      user: u
      password_file: pw
    lookback: 1d12h
    page_size: 100
    concurrency: 4
    min_refresh_interval: 0s
  - name: password-inline # credentials: IAM password
    region: cn-north-4
    project_id: p3
    service: vbs
    endpoint: https://vbs.cn-north-4.myhuaweicloud.com
    auth:
      iam_endpoint: https://iam.example.com
      domain: d
      user: u
      password: <secret>
    lookback: 0s # auto: max(7d, 3 x the policy's expected interval)
    page_size: 100
    concurrency: 4
    min_refresh_interval: 0s
  - name: env # credentials: AK/SK from the environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)
    region: cn-north-4
    project_id: p4
    service: vbs
    endpoint: https://vbs.cn-north-4.myhuaweicloud.com
    lookback: 0s # auto: max(7d, 3 x the policy's expected interval)
    page_size: 100
    concurrency: 4
    min_refresh_interval: 0s
  - name: env-token # credentials: AK/SK with security token from the environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN)
    region: cn-north-4
    project_id: p5
    service: vbs
    endpoint: https://vbs.cn-north-4.myhuaweicloud.com
    lookback: 0s # auto: max(7d, 3 x the policy's expected interval)
    page_size: 100
    concurrency: 4
    min_refresh_interval: 0s
  - name: env-project # credentials: AK/SK with security token from the environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN)
    region: cn-north-4
    project_id: envproject
    service: vbs
    endpoint: https://vbs.cn-north-4.myhuaweicloud.com
    lookback: 0s # auto: max(7d, 3 x the policy's expected interval)
    page_size: 100
    concurrency: 4
    min_refresh_interval: 0s
`
	if string(out) != want {
		t.Errorf("Redacted:\n%s\nwant:\n%s", out, want)
	}
	if strings.Contains(string(out), "SECRET") {
		t.Errorf("Redacted output leaks a secret:\n%s", out)
	}

	// The output parses back (same files, same environment) to the same output.
	c2, err := Parse(out, "redacted.yml", dir, envs.lookup)
	if err != nil {
		t.Fatalf("redacted output does not parse: %v", err)
	}
	c2.Targets[4].Credentials.SecurityToken = ""
	out2, err := c2.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if string(out2) != string(out) {
		t.Errorf("round trip changed the output:\n%s", out2)
	}
	// The parsed-back inline secrets are the placeholder, not the originals.
	if got := c2.Targets[0].Credentials.SecretKey; string(got) != SecretPlaceholder {
		t.Errorf("round-tripped secret = %q", string(got))
	}
}

// A target without an auth block may take project_id from
// HUAWEICLOUD_SDK_PROJECT_ID; project_id in the file wins.
func TestProjectIDFromEnvironment(t *testing.T) {
	yml := `targets:
  - name: from-env
    region: cn-north-4
  - name: empty-in-file
    region: cn-north-4
    project_id: ""
  - name: null-in-file
    region: cn-north-4
    project_id: ~
    auth: ~
  - name: in-file
    region: cn-north-4
    project_id: fileproject
  - name: with-auth
    region: cn-north-4
    project_id: authproject
    auth: {access_key: AK, secret_key: SK}
`
	e := env{envAccessKey: "ENV-AK", envSecretKey: "ENV-SK", envProjectID: "0605767f2f00d5d22f16c00e4e8f1d4a"}
	c, err := Parse([]byte(yml), "config.yml", t.TempDir(), e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range c.Targets {
		got = append(got, tg.Name+"="+tg.ProjectID+"/"+tg.Credentials.Source)
	}
	want := []string{
		"from-env=0605767f2f00d5d22f16c00e4e8f1d4a/env",
		"empty-in-file=0605767f2f00d5d22f16c00e4e8f1d4a/env",
		"null-in-file=0605767f2f00d5d22f16c00e4e8f1d4a/env",
		"in-file=fileproject/env",
		"with-auth=authproject/config",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("project IDs\n got %q\nwant %q", got, want)
	}
}

func TestReloadPicksUpRotatedSecret(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"config.yml": prod("    auth:\n      access_key: AK\n      secret_key_file: sk\n"),
		"sk":         "old-sk\n",
	})
	path := filepath.Join(dir, "config.yml")
	c1, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sk"), []byte("new-sk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(c1.Targets[0].Credentials.SecretKey) != "old-sk" || string(c2.Targets[0].Credentials.SecretKey) != "new-sk" {
		t.Errorf("secrets: %q then %q", string(c1.Targets[0].Credentials.SecretKey), string(c2.Targets[0].Credentials.SecretKey))
	}
}

func TestCredentialKindString(t *testing.T) {
	for k, want := range map[CredentialKind]string{CredentialsAKSK: "aksk", CredentialsPassword: "password", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

// targetOf returns the target of c called name.
func targetOf(c *Config, name string) (Target, bool) {
	for _, t := range c.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// A null page_size is not set: a CBR target gets the CBR default, as when
// the key is left out (it used to get the VBS default).
func TestNullPageSizeTakesServiceDefault(t *testing.T) {
	c, err := Parse([]byte(prod("    service: cbr\n    page_size: ~\n")+
		"  - name: vbs\n    region: eu-de\n    project_id: p2\n    page_size:\n"), "c.yml", "", defaultEnv.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{c.Targets[0].PageSize, c.Targets[1].PageSize}; got[0] != DefaultCBRPageSize || got[1] != DefaultPageSize {
		t.Errorf("page sizes %v, want [%d %d]", got, DefaultCBRPageSize, DefaultPageSize)
	}
}
