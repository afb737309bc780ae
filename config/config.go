// Package config loads, validates and hot-reloads the vbs_exporter
// configuration: a YAML file listing the Huawei Cloud projects ("targets")
// whose VBS backup jobs are exported, and how to authenticate to each.
//
// Decoding is strict (unknown keys are errors) and every error names the
// file, line, target and field. Credentials are resolved when the file is
// loaded: secret files are read then (so a reload picks up rotated secrets),
// and a target without an auth block takes AK/SK from the environment
// variables HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and
// HUAWEICLOUD_SDK_SECURITY_TOKEN. Such a target may also leave out
// project_id and take it from HUAWEICLOUD_SDK_PROJECT_ID (project_id in the
// file wins); a target with an auth block must set project_id in the file,
// as the environment's project need not belong to the account of its
// credentials. Secret values are held in the Secret type, which never
// prints, logs or marshals its value.
package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Defaults and limits of the per-target settings.
const (
	// DefaultPageSize is the page size used when page_size is not set.
	DefaultPageSize = 100
	// MaxPageSize is the largest page_size accepted.
	MaxPageSize = 1000
	// DefaultConcurrency is the concurrency used when concurrency is not set.
	DefaultConcurrency = 4
	// MaxConcurrency is the largest concurrency accepted.
	MaxConcurrency = 64
	// MaxSecretFileSize is the largest secret file accepted, in bytes.
	MaxSecretFileSize = 64 << 10
)

// Names of the environment variables that supply AK/SK credentials, and the
// project ID when project_id is not set, to a target without an auth block;
// the vendor's SDKs use the same names.
const (
	EnvAccessKey     = "HUAWEICLOUD_SDK_AK"
	EnvSecretKey     = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	EnvProjectID     = "HUAWEICLOUD_SDK_PROJECT_ID"
)

// Credential sources, the values of Credentials.Source.
const (
	// SourceConfig: the credentials come from the target's auth block
	// (inline or from the files it names).
	SourceConfig = "config"
	// SourceEnv: the target has no auth block; the credentials come from the
	// HUAWEICLOUD_SDK_* environment variables.
	SourceEnv = "env"
)

// Config is a loaded, validated configuration. It is immutable once returned
// by Load or Parse (or published by SafeConfig): readers share it without
// locks and must not modify it.
type Config struct {
	// Targets are the configured targets in file order; names are unique.
	Targets []Target `yaml:"targets"`

	byName map[string]int // index into Targets; nil for a Config built by hand
}

// Target is one Huawei Cloud project whose VBS backup policies are exported.
// Parse fills in every default, so the values here are the effective ones.
type Target struct {
	// Name identifies the target in metrics (label target) and in
	// /probe?target=NAME; it matches [A-Za-z0-9_.-]+.
	Name string `yaml:"name"`
	// Region is the Huawei Cloud region, e.g. cn-north-4.
	Region string `yaml:"region"`
	// ProjectID is the project the VBS calls are made in: project_id, or
	// for a target without an auth block that leaves it out,
	// HUAWEICLOUD_SDK_PROJECT_ID.
	ProjectID string `yaml:"project_id"`
	// Endpoint is the VBS service URL without a trailing slash; by default
	// https://vbs.{region}.myhuaweicloud.com.
	Endpoint string `yaml:"endpoint"`
	// Auth is the auth block as written in the file, nil if there is none
	// (then Credentials come from the environment).
	Auth *Auth `yaml:"auth,omitempty"`
	// Policies restricts the target to these backup policy IDs; empty means
	// every policy of the project, discovered on each refresh.
	Policies []string `yaml:"policies,omitempty"`
	// Lookback is how far back jobs are read; 0 means automatic (the
	// collector uses max(7d, 3 x the policy's expected interval)).
	Lookback time.Duration `yaml:"lookback"`
	// PageSize is the number of jobs requested per page (1..MaxPageSize).
	PageSize int `yaml:"page_size"`
	// Concurrency bounds the policies refreshed in parallel (1..MaxConcurrency).
	Concurrency int `yaml:"concurrency"`
	// MinRefreshInterval is the least time between two refreshes of the
	// target; a scrape sooner than that is served the last result. 0 means
	// refresh on every scrape.
	MinRefreshInterval time.Duration `yaml:"min_refresh_interval"`
	// Credentials are the effective credentials, resolved at load time.
	Credentials Credentials `yaml:"-"`
}

// Auth is a target's auth block as written in the file: either AK/SK
// (access_key or access_key_file, secret_key or secret_key_file, optionally
// security_token or security_token_file for temporary credentials) or an IAM
// password (domain, user, password or password_file, optionally
// iam_endpoint). Relative *_file paths are relative to the directory of the
// configuration file.
type Auth struct {
	// AccessKey is the AK (an identifier, not a secret).
	AccessKey string `yaml:"access_key,omitempty"`
	// AccessKeyFile names a file holding the AK.
	AccessKeyFile string `yaml:"access_key_file,omitempty"`
	// SecretKey is the SK written inline.
	SecretKey Secret `yaml:"secret_key,omitempty"`
	// SecretKeyFile names a file holding the SK.
	SecretKeyFile string `yaml:"secret_key_file,omitempty"`
	// SecurityToken is the security token of temporary AK/SK credentials.
	SecurityToken Secret `yaml:"security_token,omitempty"`
	// SecurityTokenFile names a file holding the security token.
	SecurityTokenFile string `yaml:"security_token_file,omitempty"`
	// IAMEndpoint is the IAM URL tokens are requested from, as written
	// ("" when left to the default https://iam.{region}.myhuaweicloud.com).
	IAMEndpoint string `yaml:"iam_endpoint,omitempty"`
	// Domain is the account (domain) name of the IAM user.
	Domain string `yaml:"domain,omitempty"`
	// User is the IAM user name.
	User string `yaml:"user,omitempty"`
	// Password is the IAM user's password written inline.
	Password Secret `yaml:"password,omitempty"`
	// PasswordFile names a file holding the IAM user's password.
	PasswordFile string `yaml:"password_file,omitempty"`
}

// CredentialKind says how a target authenticates.
type CredentialKind int

// The kinds of credentials.
const (
	// CredentialsAKSK: requests are signed with an access key and secret key
	// (SDK-HMAC-SHA256), with a security token for temporary credentials.
	CredentialsAKSK CredentialKind = iota + 1
	// CredentialsPassword: an IAM token is obtained with a user's password.
	CredentialsPassword
)

// String returns "aksk", "password" or "unknown".
func (k CredentialKind) String() string {
	switch k {
	case CredentialsAKSK:
		return "aksk"
	case CredentialsPassword:
		return "password"
	}
	return "unknown"
}

// Credentials are a target's effective credentials, with secret files read
// and the environment consulted. Only the fields of Kind are set.
type Credentials struct {
	// Kind is CredentialsAKSK or CredentialsPassword.
	Kind CredentialKind
	// AccessKey is the AK (AK/SK only).
	AccessKey string
	// SecretKey is the SK (AK/SK only).
	SecretKey Secret
	// SecurityToken is set for temporary AK/SK credentials, else "".
	SecurityToken Secret
	// IAMEndpoint is the effective IAM URL without a trailing slash (password only).
	IAMEndpoint string
	// Domain is the account name (password only).
	Domain string
	// User is the IAM user name (password only).
	User string
	// Password is the user's password (password only).
	Password Secret
	// Source is SourceConfig or SourceEnv.
	Source string
}

// Load reads and parses the configuration file at path; see Parse. Relative
// secret file paths are resolved against the directory of path. lookupEnv
// reads the environment (nil means os.LookupEnv).
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	return Parse(data, path, filepath.Dir(path), lookupEnv)
}

// Parse parses and validates a configuration, fills in defaults and resolves
// every target's credentials: secret files are read (relative paths are
// relative to baseDir) and targets without an auth block read
// HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_SECURITY_TOKEN
// (and HUAWEICLOUD_SDK_PROJECT_ID when project_id is not set) through
// lookupEnv (nil means os.LookupEnv). filename is only used in error
// messages. On failure it returns every problem found, each an *Error,
// joined with errors.Join.
func Parse(data []byte, filename, baseDir string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	p := &parser{file: filename, baseDir: baseDir, lookupEnv: lookupEnv}
	return p.parse(data)
}

// Target returns the target called name.
func (c *Config) Target(name string) (Target, bool) {
	if c == nil {
		return Target{}, false
	}
	if c.byName != nil {
		i, ok := c.byName[name]
		if !ok {
			return Target{}, false
		}
		return c.Targets[i], true
	}
	for _, t := range c.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// redactedTarget is a Target as Redacted shows it: durations in Prometheus
// form and the auth block with secrets replaced.
type redactedTarget struct {
	Name               string         `yaml:"name"`
	Region             string         `yaml:"region"`
	ProjectID          string         `yaml:"project_id"`
	Endpoint           string         `yaml:"endpoint"`
	Auth               *Auth          `yaml:"auth,omitempty"`
	Policies           []string       `yaml:"policies,omitempty"`
	Lookback           model.Duration `yaml:"lookback"`
	PageSize           int            `yaml:"page_size"`
	Concurrency        int            `yaml:"concurrency"`
	MinRefreshInterval model.Duration `yaml:"min_refresh_interval"`
}

// Redacted returns the effective configuration as YAML, for the /config page:
// defaults are filled in (project_id too, when it came from
// HUAWEICLOUD_SDK_PROJECT_ID), every secret value (secret_key, security_token,
// password) is replaced by SecretPlaceholder, access keys and *_file paths are
// shown as written. Comments say where each target's credentials come from
// and mark an automatic lookback. The output parses back to an equivalent
// configuration (with the same files and environment).
func (c *Config) Redacted() ([]byte, error) {
	out := struct {
		Targets []redactedTarget `yaml:"targets"`
	}{Targets: make([]redactedTarget, 0, len(c.Targets))}
	for _, t := range c.Targets {
		rt := redactedTarget{
			Name:               t.Name,
			Region:             t.Region,
			ProjectID:          t.ProjectID,
			Endpoint:           t.Endpoint,
			Policies:           t.Policies,
			Lookback:           model.Duration(t.Lookback),
			PageSize:           t.PageSize,
			Concurrency:        t.Concurrency,
			MinRefreshInterval: model.Duration(t.MinRefreshInterval),
		}
		if t.Auth != nil {
			a := *t.Auth
			a.SecretKey = redact(a.SecretKey)
			a.SecurityToken = redact(a.SecurityToken)
			a.Password = redact(a.Password)
			if t.Credentials.Kind == CredentialsPassword && a.IAMEndpoint == "" {
				a.IAMEndpoint = t.Credentials.IAMEndpoint
			}
			rt.Auth = &a
		}
		out.Targets = append(out.Targets, rt)
	}

	var root yaml.Node
	if err := root.Encode(out); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	annotate(&root, c.Targets)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	return buf.Bytes(), nil
}

// annotate adds comments to the encoded redacted config: the source of each
// target's credentials (on its name) and "auto" on a zero lookback.
func annotate(root *yaml.Node, targets []Target) {
	seq := mappingValue(root, "targets")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range seq.Content {
		if i >= len(targets) {
			break
		}
		t := targets[i]
		if v := mappingValue(item, "name"); v != nil {
			v.LineComment = credentialsComment(t.Credentials)
		}
		if v := mappingValue(item, "lookback"); v != nil && t.Lookback == 0 {
			v.LineComment = "auto: max(7d, 3 x the policy's expected interval)"
		}
	}
}

// credentialsComment describes where credentials come from, without secrets.
func credentialsComment(c Credentials) string {
	switch {
	case c.Source == SourceEnv && c.SecurityToken != "":
		return "credentials: AK/SK with security token from the environment (" + EnvAccessKey + ", " + EnvSecretKey + ", " + EnvSecurityToken + ")"
	case c.Source == SourceEnv:
		return "credentials: AK/SK from the environment (" + EnvAccessKey + ", " + EnvSecretKey + ")"
	case c.Kind == CredentialsAKSK && c.SecurityToken != "":
		return "credentials: temporary AK/SK with security token"
	case c.Kind == CredentialsAKSK:
		return "credentials: AK/SK"
	case c.Kind == CredentialsPassword:
		return "credentials: IAM password"
	}
	return ""
}

// mappingValue returns the value of key in mapping node n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
