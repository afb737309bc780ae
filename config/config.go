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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
)

// Defaults and limits of the per-target settings.
const (
	// DefaultPageSize is the page size of a VBS target whose page_size is
	// not set.
	DefaultPageSize = 100
	// DefaultCBRPageSize is the page size of a CBR target whose page_size
	// is not set: the API's maximum, so that a steady refresh reads its new
	// jobs with one request.
	DefaultCBRPageSize = 1000
	// maxPageSize is the largest page_size accepted.
	maxPageSize = 1000
	// DefaultConcurrency is the concurrency used when concurrency is not set.
	DefaultConcurrency = 4
	// maxConcurrency is the largest concurrency accepted.
	maxConcurrency = 64
	// maxSecretFileSize is the largest secret file accepted, in bytes.
	maxSecretFileSize = 64 << 10
	// maxConfigFileSize is the largest configuration file accepted, in bytes.
	maxConfigFileSize = 1 << 20
	// minLookback is the shortest lookback without a warning: twice the
	// interval of a daily schedule, the shortest VBS runs.
	minLookback = 48 * time.Hour
)

// The backup services a target can read (its service setting).
const (
	// ServiceVBS is Volume Backup Service, the default.
	ServiceVBS = "vbs"
	// ServiceCBR is Cloud Backup and Recovery.
	ServiceCBR = "cbr"
)

// Names of the environment variables that supply AK/SK credentials, and the
// project ID when project_id is not set, to a target without an auth block;
// the vendor's SDKs use the same names.
const (
	envAccessKey     = "HUAWEICLOUD_SDK_AK"
	envSecretKey     = "HUAWEICLOUD_SDK_SK"
	envSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	envProjectID     = "HUAWEICLOUD_SDK_PROJECT_ID"
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

	// Warnings are problems that do not stop the configuration from being
	// used (such as a lookback too short for a daily schedule), formatted
	// like errors. The exporter logs them at every (re)load.
	Warnings []string `yaml:"-"`
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
	// Service is the backup service the target reads: ServiceVBS (the
	// default) or ServiceCBR.
	Service string `yaml:"service"`
	// Endpoint is the service URL without a trailing slash; by default the
	// region's endpoint of Service (https://vbs.{region}.myhuaweicloud.com,
	// https://cbr.{region}.myhuaweicloud.com; see package endpoints).
	Endpoint string `yaml:"endpoint"`
	// Auth is the auth block as written in the file, nil if there is none
	// (then Credentials come from the environment).
	Auth *Auth `yaml:"auth,omitempty"`
	// Policies restricts the target to these backup policy IDs (VBS
	// backup_policy_id, CBR policy id); empty means every policy of the
	// project, discovered on each refresh.
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
	// ResourceNames reads the disks' names from the EVS volume list (read
	// permission evs:volumes:list) for vbs_resource_info and the status
	// page; default false. VBS only: CBR jobs carry their resource's name,
	// and a CBR target that sets it is an error.
	ResourceNames bool `yaml:"resource_names,omitempty"`
	// EVSEndpoint is the EVS service URL without a trailing slash, used
	// only with ResourceNames; by default the region's EVS endpoint
	// (https://evs.{region}.myhuaweicloud.com, .eu for eu-west-101). It is
	// left empty when ResourceNames is false.
	EVSEndpoint string `yaml:"evs_endpoint,omitempty"`
	// Credentials are the effective credentials, resolved at load time.
	Credentials Credentials `yaml:"-"`

	line int            // of the target while parsing
	keys map[string]int // line of each key while parsing ("auth.user" for auth's)
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
// reads the environment (nil means os.LookupEnv). The file is read like a
// secret file: it must be a regular file (not a FIFO, device or directory)
// of at most maxConfigFileSize bytes, and reading it never blocks.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := readRegular(path, maxConfigFileSize)
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
// lookupEnv (nil means os.LookupEnv). filename is only used in messages. On
// failure it returns every problem found, each a *configError, joined with
// errors.Join; no message holds a secret of any target.
func Parse(data []byte, filename, baseDir string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	p := &parser{file: filename, baseDir: baseDir, lookupEnv: lookupEnv, secrets: lineSecrets(data)}
	c := p.parse(data)
	for _, e := range p.errs {
		e.File = filename
		e.Err = scrub(e.Err, p.secrets)
	}
	if len(p.errs) > maxErrors {
		n := len(p.errs) - maxErrors
		p.errs = append(p.errs[:maxErrors], &configError{File: filename, Err: fmt.Errorf("%d more errors not shown", n)})
	}
	if len(p.errs) > 0 {
		return nil, p.errs.join()
	}
	return c, nil
}

// maxErrors bounds the errors reported for one file.
const maxErrors = 50

// parser holds the state of one Parse.
type parser struct {
	file, baseDir string
	lookupEnv     func(string) (string, bool)
	errs          problems
	secrets       []string // every secret seen, scrubbed from every message
}

func (p *parser) parse(data []byte) *Config {
	doc, extra, err := decodeDocument(data)
	switch {
	case err != nil:
		p.errs = append(p.errs, syntaxError(data, err))
		return nil
	case extra > 0:
		p.errs.add(extra, "", "only one YAML document is allowed")
		return nil
	case expandedSize(doc, map[*yaml.Node]int{}, maxExpandedNodes) > maxExpandedNodes:
		p.errs.add(0, "", "the document expands to more than %d YAML nodes through aliases", maxExpandedNodes)
		return nil
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	if isNull(root) {
		p.errs.add(0, "targets", "at least one target is required (the file is empty)")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errs.add(root.Line, "", "expected a mapping with a targets list at the top level, got %s", describe(root))
		return nil
	}
	var top struct {
		Targets *yaml.Node `yaml:"targets"`
	}
	keys := decodeFields(root, &top, &p.errs)
	tl := top.Targets
	switch {
	case keys["targets"] == 0:
		p.errs.add(root.Line, "targets", "at least one target is required")
	case tl == nil || (tl.Kind == yaml.SequenceNode && len(tl.Content) == 0):
		p.errs.add(keys["targets"], "targets", "at least one target is required")
	case tl.Kind != yaml.SequenceNode:
		p.errs.add(keys["targets"], "targets", "expected a list of targets, got %s", describe(tl))
	}
	if len(p.errs) > 0 {
		return nil
	}
	c, byName := &Config{}, make(map[string]int, len(tl.Content))
	for i, item := range tl.Content {
		var t Target
		var ps problems
		if err := t.UnmarshalYAML(resolve(item)); err != nil {
			ps = err.(problems)
		}
		if t.line == 0 || item.Kind == yaml.AliasNode {
			t.line = item.Line
		}
		p.credentials(&t, &ps)
		if first, dup := byName[t.Name]; dup && len(ps) == 0 {
			ps.add(t.keys["name"], "name", "duplicate target name (first defined at line %d)", c.Targets[first].keys["name"])
		}
		slices.SortStableFunc(ps, func(a, b *configError) int { return a.Line - b.Line })
		for _, e := range ps {
			e.Target, e.TargetIndex = t.Name, i+1
		}
		p.errs = append(p.errs, ps...)
		if len(ps) == 0 {
			if t.Lookback > 0 && t.Lookback < minLookback {
				c.Warnings = append(c.Warnings, (&configError{File: p.file, Line: t.keys["lookback"], Target: t.Name, Field: "lookback",
					Err: fmt.Errorf("%s is shorter than %s, twice the interval of a daily schedule: a daily policy's last run can fall out of it and look missing",
						model.Duration(t.Lookback), model.Duration(minLookback))}).Error())
			}
			byName[t.Name] = len(c.Targets)
			c.Targets = append(c.Targets, t)
		}
	}
	for i := range c.Targets {
		c.Targets[i].line, c.Targets[i].keys = 0, nil
	}
	return c
}

// credentials checks which credentials t's auth block holds and resolves
// them: secret files are read, and a target without an auth block reads the
// environment (and takes project_id from it when not set).
func (p *parser) credentials(t *Target, ps *problems) {
	a := t.Auth
	if t.keys == nil { // not a mapping
		return
	}
	if a != nil {
		p.secrets = append(p.secrets, string(a.SecretKey), string(a.SecurityToken), string(a.Password))
	}
	switch {
	case t.failed(*ps, "project_id") || t.ProjectID != "":
	case t.keys["auth"] != 0 && (a != nil || t.failed(*ps, "auth")):
		ps.add(t.lineOf("project_id"), "project_id", "required")
	default:
		id, _ := p.lookupEnv(envProjectID)
		t.ProjectID = id
		if id == "" {
			ps.add(t.lineOf("project_id"), "project_id", "required (or %s in the environment, for a target without auth)", envProjectID)
		} else if !idRE.MatchString(id) {
			ps.add(t.lineOf("project_id"), "project_id", "invalid project ID %s from %s: use only letters, digits, '_' and '-'", quote(id), envProjectID)
		}
	}
	if a == nil {
		p.envCredentials(t, ps)
		return
	}
	line, before := t.keys["auth"], len(*ps)
	if firstField(*ps, "auth") != "" {
		return
	}
	set := map[string]bool{}
	for k := range t.keys {
		if k, ok := strings.CutPrefix(k, "auth."); ok {
			f, _ := fieldByTag(reflect.TypeOf(*a), k)
			set[k] = reflect.ValueOf(*a).Field(f).String() != ""
		}
	}
	for _, k := range []string{"access_key", "secret_key", "security_token", "password"} {
		if set[k] && set[k+"_file"] {
			ps.add(t.keys["auth."+k+"_file"], "auth", "both %s and %s_file are set; choose one", k, k)
		}
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if set[k] {
				return k
			}
		}
		return ""
	}
	ak := first("access_key", "access_key_file", "secret_key", "secret_key_file", "security_token", "security_token_file")
	pw := first("user", "domain", "password", "password_file", "iam_endpoint")
	switch {
	case len(*ps) > before:
	case ak != "" && pw != "":
		ps.add(line, "auth", "both AK/SK (%s) and IAM password (%s) are set; choose one", ak, pw)
	case ak == "" && pw == "":
		ps.add(line, "auth", "no credentials: set access_key and secret_key, or domain, user and password (or remove auth to use the environment)")
	case ak != "":
		if a.AccessKey == "" && a.AccessKeyFile == "" {
			ps.add(line, "auth.access_key", "required for AK/SK authentication (or auth.access_key_file)")
		}
		if a.SecretKey == "" && a.SecretKeyFile == "" {
			ps.add(line, "auth.secret_key", "required for AK/SK authentication (or auth.secret_key_file)")
		}
		if len(*ps) == before {
			t.Credentials = Credentials{Kind: CredentialsAKSK, Source: SourceConfig,
				AccessKey:     p.secretFile(t, "access_key", a.AccessKey, a.AccessKeyFile, ps),
				SecretKey:     Secret(p.secretFile(t, "secret_key", string(a.SecretKey), a.SecretKeyFile, ps)),
				SecurityToken: Secret(p.secretFile(t, "security_token", string(a.SecurityToken), a.SecurityTokenFile, ps))}
		}
	default:
		if a.Domain == "" {
			ps.add(line, "auth.domain", "required for IAM password authentication")
		}
		if a.User == "" {
			ps.add(line, "auth.user", "required for IAM password authentication")
		}
		if a.Password == "" && a.PasswordFile == "" {
			ps.add(line, "auth.password", "required for IAM password authentication (or auth.password_file)")
		}
		if len(*ps) == before {
			iam := strings.TrimRight(a.IAMEndpoint, "/")
			if iam == "" {
				iam = endpoints.Default(endpoints.IAM, t.Region)
			}
			t.Credentials = Credentials{Kind: CredentialsPassword, Source: SourceConfig, IAMEndpoint: iam, Domain: a.Domain, User: a.User,
				Password: Secret(p.secretFile(t, "password", string(a.Password), a.PasswordFile, ps))}
		}
	}
}

// firstField returns the field of the first problem in ps whose field
// starts with prefix, "" if there is none.
func firstField(ps problems, prefix string) string {
	for _, e := range ps {
		if strings.HasPrefix(e.Field, prefix) {
			return e.Field
		}
	}
	return ""
}

// envCredentials takes AK/SK (and a security token, if set) from the environment.
func (p *parser) envCredentials(t *Target, ps *problems) {
	get := func(name string) string {
		v, _ := p.lookupEnv(name)
		return v
	}
	ak, sk, token := get(envAccessKey), get(envSecretKey), get(envSecurityToken)
	p.secrets = append(p.secrets, sk, token)
	var missing []string
	if ak == "" {
		missing = append(missing, envAccessKey)
	}
	if sk == "" {
		missing = append(missing, envSecretKey)
	}
	if len(missing) > 0 {
		ps.add(t.line, "auth", "not set, and the environment lacks %s", strings.Join(missing, " and "))
		return
	}
	t.Credentials = Credentials{Kind: CredentialsAKSK, AccessKey: ak, SecretKey: Secret(sk), SecurityToken: Secret(token), Source: SourceEnv}
}

// secretFile returns inline, or when it is empty the content of the secret
// file path (relative to the config's directory), trimmed of trailing
// whitespace. Errors name the line of the key, never the path or content: a
// secret pasted by mistake into a *_file field would otherwise come back.
func (p *parser) secretFile(t *Target, key, inline, path string, ps *problems) string {
	if path == "" {
		return inline
	}
	if !filepath.IsAbs(path) && p.baseDir != "" {
		path = filepath.Join(p.baseDir, path)
	}
	field := "auth." + key + "_file"
	data, err := readRegular(path, maxSecretFileSize)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		ps.add(t.keys[field], field, "cannot read secret file: %w", err)
		return ""
	}
	s := strings.TrimRight(string(data), " \t\r\n")
	if s == "" {
		ps.add(t.keys[field], field, "secret file is empty")
	}
	p.secrets = append(p.secrets, s)
	return s
}

// readRegular returns the content of the regular file at path, of at most
// limit bytes. The file is opened without blocking (a FIFO without a writer
// would block an ordinary open) and checked with fstat before a single byte
// is read, so a FIFO, device or directory (or a symlink to one) is refused at
// once; the read itself stops at limit+1 bytes. Errors are *fs.PathError.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if m := fi.Mode(); !m.IsRegular() {
		kind := "a special file"
		switch {
		case m.IsDir():
			kind = "a directory"
		case m&fs.ModeNamedPipe != 0:
			kind = "a FIFO"
		case m&fs.ModeDevice != 0:
			kind = "a device"
		case m&fs.ModeSocket != 0:
			kind = "a socket"
		}
		return nil, &fs.PathError{Op: "read", Path: path, Err: &notRegular{kind}}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("larger than %s", sizeString(limit))
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return data, nil
}

// notRegular is the error for a file that is not a regular file.
type notRegular struct{ kind string }

func (e *notRegular) Error() string { return "not a regular file (" + e.kind + ")" }

// sizeString gives a size limit as "N bytes", with its KiB or MiB form.
func sizeString(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB (%d bytes)", n>>10, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// maxExpandedNodes bounds the size of a document with its aliases expanded,
// so that a small file cannot make Parse (and Redacted) do a huge amount of
// work: a list of N aliases to a target with N aliased policies costs N*N.
const maxExpandedNodes = 200_000

// expandedSize returns the number of nodes under n with aliases expanded,
// stopping early once it exceeds limit. memo holds the sizes of the nodes
// seen; -1 marks a node being counted (a cycle through it counts 1).
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, limit int) int {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1
		}
		return 1 + expandedSize(n.Alias, memo, limit)
	}
	if v, ok := memo[n]; ok {
		return max(v, 1)
	}
	memo[n] = -1
	size := 1
	for _, c := range n.Content {
		if size += expandedSize(c, memo, limit); size > limit {
			break
		}
	}
	memo[n] = size
	return size
}

// Redacted returns the effective configuration as YAML, for the /config page:
// defaults are filled in (project_id too, when it came from
// HUAWEICLOUD_SDK_PROJECT_ID), every secret value (secret_key, security_token,
// password) is replaced by SecretPlaceholder, access keys and *_file paths are
// shown as written, durations in Prometheus form. Comments say where each
// target's credentials come from and mark an automatic lookback. The output
// parses back to an equivalent configuration (with the same files and
// environment).
func (c *Config) Redacted() ([]byte, error) {
	out := struct {
		Targets []Target `yaml:"targets"`
	}{Targets: slices.Clone(c.Targets)}
	for i, t := range out.Targets {
		if t.Auth != nil {
			a := *t.Auth
			if t.Credentials.Kind == CredentialsPassword && a.IAMEndpoint == "" {
				a.IAMEndpoint = t.Credentials.IAMEndpoint
			}
			out.Targets[i].Auth = &a
		}
	}
	var root yaml.Node
	if err := root.Encode(out); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	annotate(&root, c.Targets)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := errors.Join(enc.Encode(&root), enc.Close()); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	return buf.Bytes(), nil
}

// annotate writes every duration of the encoded redacted config in
// Prometheus form and adds comments: the source of each target's
// credentials (on its name) and "auto" on a zero lookback.
func annotate(root *yaml.Node, targets []Target) {
	seq := mappingValue(root, "targets")
	tt := reflect.TypeOf(Target{})
	for i, item := range seq.Content {
		t := targets[i]
		for j := range tt.NumField() {
			name, _, _ := strings.Cut(tt.Field(j).Tag.Get("yaml"), ",")
			if v := mappingValue(item, name); v != nil && tt.Field(j).Type == durationType {
				v.Value = model.Duration(reflect.ValueOf(t).Field(j).Int()).String()
			}
		}
		mappingValue(item, "name").LineComment = credentialsComment(t.Credentials)
		if t.Lookback == 0 {
			mappingValue(item, "lookback").LineComment = "auto: max(7d, 3 x the policy's expected interval)"
		}
	}
}

// credentialsComment describes where credentials come from, without secrets.
func credentialsComment(c Credentials) string {
	switch {
	case c.Source == SourceEnv && c.SecurityToken != "":
		return "credentials: AK/SK with security token from the environment (" + envAccessKey + ", " + envSecretKey + ", " + envSecurityToken + ")"
	case c.Source == SourceEnv:
		return "credentials: AK/SK from the environment (" + envAccessKey + ", " + envSecretKey + ")"
	case c.Kind == CredentialsAKSK && c.SecurityToken != "":
		return "credentials: temporary AK/SK with security token"
	case c.Kind == CredentialsAKSK:
		return "credentials: AK/SK"
	case c.Kind == CredentialsPassword:
		return "credentials: IAM password"
	}
	return ""
}

// mappingValue returns the value of key in mapping n (a document's root
// mapping when n is a document), or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
