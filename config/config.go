// Package config loads, validates and hot-reloads the vbs_exporter
// configuration: the Huawei Cloud projects ("targets") whose backup jobs are
// exported and how to authenticate to each (README.md, "Configuration",
// documents every key). Decoding is strict; every error names the file,
// line, target and field, and no error, log line or /config output holds a
// secret. Credentials are resolved at load time: secret files are read then
// (a reload picks up rotated secrets) and a target without an auth block
// takes them from the HUAWEICLOUD_SDK_* environment variables.
package config

import (
	"bytes"
	"cmp"
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

// Defaults of the target settings page_size (VBS, CBR: the CBR API's
// maximum) and concurrency.
const (
	DefaultPageSize    = 100
	DefaultCBRPageSize = 1000
	DefaultConcurrency = 4
)

// Limits: of page_size and concurrency, of the files read (in bytes), of the
// errors reported and of the YAML nodes a document may expand to through
// aliases (N aliases to a target with N aliased policies cost N*N).
const (
	maxPageSize       = 1000
	maxConcurrency    = 64
	maxSecretFileSize = 64 << 10
	maxConfigFileSize = 1 << 20
	maxErrors         = 50
	maxExpandedNodes  = 200_000
	// minLookback is the shortest lookback without a warning: twice the
	// interval of a daily schedule, the shortest VBS runs.
	minLookback = 48 * time.Hour
)

// The backup services a target can read (its service setting).
const (
	ServiceVBS = "vbs" // Volume Backup Service, the default
	ServiceCBR = "cbr" // Cloud Backup and Recovery
)

// The environment variables of the vendor's SDKs that supply the AK/SK, and
// the project ID when project_id is not set, of a target without auth.
const (
	envAccessKey     = "HUAWEICLOUD_SDK_AK"
	envSecretKey     = "HUAWEICLOUD_SDK_SK"
	envSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	envProjectID     = "HUAWEICLOUD_SDK_PROJECT_ID"
)

// Credential sources, the values of Credentials.Source.
const (
	SourceConfig = "config" // the target's auth block (inline or from files)
	SourceEnv    = "env"    // no auth block: the HUAWEICLOUD_SDK_* variables
)

// Config is a loaded, validated configuration. It is immutable once returned
// by Load or Parse (or published by SafeConfig): readers share it without
// locks and must not modify it.
type Config struct {
	Targets []Target `yaml:"targets"` // in file order; names are unique
	// Warnings are problems that do not stop the configuration from being
	// used (a lookback too short for a daily schedule), formatted like
	// errors. The exporter logs them at every (re)load.
	Warnings []string `yaml:"-"`
}

// Target is one Huawei Cloud project whose backup jobs are exported, with
// every default filled in. The yaml tags are the configuration keys.
type Target struct {
	Name      string `yaml:"name"`       // label target, /probe?target=NAME
	Region    string `yaml:"region"`     // e.g. cn-north-4
	ProjectID string `yaml:"project_id"` // or HUAWEICLOUD_SDK_PROJECT_ID without auth
	Service   string `yaml:"service"`    // ServiceVBS or ServiceCBR
	// Endpoint is the service URL without a trailing slash (by default the
	// region's, see package endpoints); EVSEndpoint likewise, set only with
	// ResourceNames.
	Endpoint string `yaml:"endpoint"`
	Auth     *Auth  `yaml:"auth,omitempty"` // as written; nil: credentials from the environment
	// Policies are backup policy IDs (VBS backup_policy_id, CBR policy id);
	// empty means every policy, discovered on each refresh.
	Policies []string `yaml:"policies,omitempty"`
	// Lookback is how far back jobs are read; 0 is automatic: max(7d, 3 x
	// the policy's expected interval).
	Lookback    time.Duration `yaml:"lookback"`
	PageSize    int           `yaml:"page_size"`   // jobs per page, 1..1000
	Concurrency int           `yaml:"concurrency"` // policies refreshed in parallel, 1..64
	// MinRefreshInterval is the least time between two refreshes; a scrape
	// sooner is served the last result. 0 refreshes on every scrape.
	MinRefreshInterval time.Duration `yaml:"min_refresh_interval"`
	ResourceNames      bool          `yaml:"resource_names,omitempty"` // disk names from EVS (VBS only)
	EVSEndpoint        string        `yaml:"evs_endpoint,omitempty"`   // see Endpoint
	Credentials        Credentials   `yaml:"-"`                        // effective, resolved at load time
}

// Auth is a target's auth block as written: AK/SK (optionally with a
// security token for temporary credentials) or an IAM password. Relative
// *_file paths are relative to the configuration file's directory.
type Auth struct {
	AccessKey         string `yaml:"access_key,omitempty"`          // the AK, not a secret
	AccessKeyFile     string `yaml:"access_key_file,omitempty"`     // a file holding the AK
	SecretKey         Secret `yaml:"secret_key,omitempty"`          // the SK, inline
	SecretKeyFile     string `yaml:"secret_key_file,omitempty"`     // a file holding the SK
	SecurityToken     Secret `yaml:"security_token,omitempty"`      // of temporary AK/SK, inline
	SecurityTokenFile string `yaml:"security_token_file,omitempty"` // a file holding it
	IAMEndpoint       string `yaml:"iam_endpoint,omitempty"`        // "" for the region's default
	Domain            string `yaml:"domain,omitempty"`              // the IAM user's account
	User              string `yaml:"user,omitempty"`                // the IAM user
	Password          Secret `yaml:"password,omitempty"`            // the IAM user's, inline
	PasswordFile      string `yaml:"password_file,omitempty"`       // a file holding it
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
	Kind          CredentialKind // CredentialsAKSK or CredentialsPassword
	AccessKey     string         // AK/SK
	SecretKey     Secret         // AK/SK
	SecurityToken Secret         // AK/SK, temporary credentials only
	IAMEndpoint   string         // password: the effective IAM URL, without a trailing slash
	Domain        string         // password
	User          string         // password
	Password      Secret         // password
	Source        string         // SourceConfig or SourceEnv
}

// Load reads the configuration file at path, a regular file (never a FIFO,
// device or directory, so it never blocks) of at most 1 MiB, and parses it;
// see Parse. Relative secret file paths are resolved against its directory.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := readRegular(path, maxConfigFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	return Parse(data, path, filepath.Dir(path), lookupEnv)
}

// Parse parses and validates a configuration, fills in defaults and resolves
// every target's credentials: secret files are read (relative paths are
// relative to baseDir), and lookupEnv (nil means os.LookupEnv) supplies the
// environment. filename is only used in messages. On failure it returns
// every problem found, each a *configError, joined with errors.Join; no
// message holds a secret of any target.
func Parse(data []byte, filename, baseDir string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	p := &parser{file: filename, baseDir: baseDir, lookupEnv: lookupEnv, secrets: lineSecrets(data)}
	c := p.parse(data)
	if n := len(p.errs) - maxErrors; n > 0 {
		p.errs = append(p.errs[:maxErrors], &configError{Err: fmt.Errorf("%d more errors not shown", n)})
	}
	if len(p.errs) > 0 {
		for _, e := range p.errs {
			e.File = filename
			e.Err = scrub(e.Err, p.secrets)
		}
		return nil, p.errs.join()
	}
	return c, nil
}

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
	case extra > 0:
		p.errs.add(extra, "", "only one YAML document is allowed")
	case expandedSize(doc, map[*yaml.Node]int{}) > maxExpandedNodes:
		p.errs.add(0, "", "the document expands to more than %d YAML nodes through aliases", maxExpandedNodes)
	case len(doc.Content) == 0 || isNull(doc.Content[0]):
		p.errs.add(0, "targets", "at least one target is required (the file is empty)")
	case doc.Content[0].Kind != yaml.MappingNode:
		p.errs.add(doc.Content[0].Line, "", "expected a mapping with a targets list at the top level, got %s", describe(doc.Content[0]))
	}
	if len(p.errs) > 0 {
		return nil
	}
	root := doc.Content[0]
	var top struct {
		Targets *yaml.Node `yaml:"targets"`
	}
	p.errs = decodeFields(root, &top, "")
	switch tl, line := top.Targets, keyLine(root, "targets"); {
	case tl == nil || (tl.Kind == yaml.SequenceNode && len(tl.Content) == 0): // absent, null or []
		p.errs.add(cmp.Or(line, root.Line), "targets", "at least one target is required")
	case tl.Kind != yaml.SequenceNode:
		p.errs.add(line, "targets", "expected a list of targets, got %s", describe(tl))
	}
	if len(p.errs) > 0 {
		return nil
	}
	c, names := &Config{}, map[string]int{} // line of each good target's name
	for i, item := range top.Targets.Content {
		var t Target
		n := resolve(item)
		ps, _ := t.UnmarshalYAML(n).(problems)
		if n.Kind == yaml.MappingNode {
			p.credentials(&t, n, item.Line, &ps)
		}
		if first, dup := names[t.Name]; dup && len(ps) == 0 {
			ps.add(keyLine(n, "name"), "name", "duplicate target name (first defined at line %d)", first)
		}
		slices.SortStableFunc(ps, func(a, b *configError) int { return a.Line - b.Line })
		for _, e := range ps {
			e.Target, e.TargetIndex = t.Name, i+1
		}
		p.errs = append(p.errs, ps...)
		if len(ps) > 0 {
			continue
		}
		if t.Lookback > 0 && t.Lookback < minLookback {
			c.Warnings = append(c.Warnings, (&configError{File: p.file, Line: keyLine(n, "lookback"), Target: t.Name, Field: "lookback",
				Err: fmt.Errorf("%s is shorter than %s, twice the interval of a daily schedule: a daily policy's last run can fall out of it and look missing",
					model.Duration(t.Lookback), model.Duration(minLookback))}).Error())
		}
		names[t.Name] = keyLine(n, "name")
		c.Targets = append(c.Targets, t)
	}
	return c
}

// credentials checks which credentials t's auth block (decoded from n, the
// target's mapping at line) holds and resolves them: secret files are read,
// and a target without an auth block reads the environment (and takes its
// project ID from it when project_id is not set).
func (p *parser) credentials(t *Target, n *yaml.Node, line int, ps *problems) {
	at := func(field string) int { return cmp.Or(keyLine(n, field), line) }
	a := t.Auth
	if a != nil {
		p.secrets = append(p.secrets, string(a.SecretKey), string(a.SecurityToken), string(a.Password))
	}
	switch {
	case ps.has("project_id") || t.ProjectID != "":
	case a != nil || ps.has("auth"):
		ps.add(at("project_id"), "project_id", "required")
	default:
		id, _ := p.lookupEnv(envProjectID)
		t.ProjectID = id
		if id == "" {
			ps.add(at("project_id"), "project_id", "required (or %s in the environment, for a target without auth)", envProjectID)
		} else if !idRE.MatchString(id) {
			ps.add(at("project_id"), "project_id", "invalid project ID %s from %s: use only letters, digits, '_' and '-'", quote(id), envProjectID)
		}
	}
	if a == nil {
		env := func(name string) string { v, _ := p.lookupEnv(name); return v }
		c := Credentials{Kind: CredentialsAKSK, AccessKey: env(envAccessKey), SecretKey: Secret(env(envSecretKey)),
			SecurityToken: Secret(env(envSecurityToken)), Source: SourceEnv}
		p.secrets = append(p.secrets, string(c.SecretKey), string(c.SecurityToken))
		t.Credentials = c
		if missing := slices.DeleteFunc([]string{envAccessKey, envSecretKey}, func(v string) bool { return env(v) != "" }); len(missing) > 0 {
			ps.add(line, "auth", "not set, and the environment lacks %s", strings.Join(missing, " and "))
		}
		return
	}
	if ps.has("auth") {
		return
	}
	// The value of each auth key, and the first key set of each kind.
	val, av := map[string]string{}, reflect.ValueOf(*a)
	for i := range av.NumField() {
		val[tagName(av.Type().Field(i))] = av.Field(i).String()
	}
	first := func(keys ...string) string {
		if i := slices.IndexFunc(keys, func(k string) bool { return val[k] != "" }); i >= 0 {
			return keys[i]
		}
		return ""
	}
	before := len(*ps)
	for _, k := range []string{"access_key", "secret_key", "security_token", "password"} {
		if val[k] != "" && val[k+"_file"] != "" {
			ps.add(at("auth."+k+"_file"), "auth", "both %s and %s_file are set; choose one", k, k)
		}
	}
	ak := first("access_key", "access_key_file", "secret_key", "secret_key_file", "security_token", "security_token_file")
	pw := first("user", "domain", "password", "password_file", "iam_endpoint")
	kind, required := "AK/SK", []string{"access_key", "secret_key"} // the keys each kind requires
	if pw != "" {
		kind, required = "IAM password", []string{"domain", "user", "password"}
	}
	switch {
	case len(*ps) > before:
	case ak != "" && pw != "":
		ps.add(at("auth"), "auth", "both AK/SK (%s) and IAM password (%s) are set; choose one", ak, pw)
	case ak == "" && pw == "":
		ps.add(at("auth"), "auth", "no credentials: set access_key and secret_key, or domain, user and password (or remove auth to use the environment)")
	default:
		for _, k := range required {
			or := ""
			if _, ok := val[k+"_file"]; ok {
				or = " (or auth." + k + "_file)"
			}
			if val[k] == "" && val[k+"_file"] == "" {
				ps.add(at("auth"), "auth."+k, "required for %s authentication%s", kind, or)
			}
		}
	}
	if len(*ps) > before {
		return
	}
	read := func(k string) string {
		return p.secretFile(val[k], val[k+"_file"], "auth."+k+"_file", at("auth."+k+"_file"), ps)
	}
	if pw == "" {
		t.Credentials = Credentials{Kind: CredentialsAKSK, Source: SourceConfig,
			AccessKey: read("access_key"), SecretKey: Secret(read("secret_key")), SecurityToken: Secret(read("security_token"))}
		return
	}
	iam := strings.TrimRight(a.IAMEndpoint, "/")
	if iam == "" {
		iam = endpoints.Default(endpoints.IAM, t.Region)
	}
	t.Credentials = Credentials{Kind: CredentialsPassword, Source: SourceConfig, IAMEndpoint: iam, Domain: a.Domain, User: a.User, Password: Secret(read("password"))}
}

// secretFile returns inline, or when path is set the content of that file
// (relative to the config's directory) trimmed of trailing whitespace.
// Errors name field at line, never the path or content: a secret pasted by
// mistake into a *_file field would otherwise come back.
func (p *parser) secretFile(inline, path, field string, line int, ps *problems) string {
	if path == "" {
		return inline
	}
	if !filepath.IsAbs(path) && p.baseDir != "" {
		path = filepath.Join(p.baseDir, path)
	}
	data, err := readRegular(path, maxSecretFileSize)
	if err != nil {
		ps.add(line, field, "cannot read secret file: %w", errors.Unwrap(err))
		return ""
	}
	s := strings.TrimRight(string(data), " \t\r\n")
	if s == "" {
		ps.add(line, field, "secret file is empty")
	}
	p.secrets = append(p.secrets, s)
	return s
}

// readRegular returns the content of the regular file at path, of at most
// limit bytes (a multiple of 1 KiB). The file is opened without blocking (a
// FIFO without a writer would block an ordinary open) and checked with fstat
// before a byte is read, so a FIFO, device or directory (or a symlink to one)
// is refused at once. Errors are *fs.PathError.
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
	var data []byte
	switch m := fi.Mode(); {
	case m.IsDir():
		err = errors.New("not a regular file (a directory)")
	case m&fs.ModeNamedPipe != 0:
		err = errors.New("not a regular file (a FIFO)")
	case m&fs.ModeDevice != 0:
		err = errors.New("not a regular file (a device)")
	case m&fs.ModeSocket != 0:
		err = errors.New("not a regular file (a socket)")
	case !m.IsRegular():
		err = errors.New("not a regular file (a special file)")
	default:
		data, err = io.ReadAll(io.LimitReader(f, limit+1))
	}
	if err == nil && int64(len(data)) > limit {
		if limit%(1<<20) == 0 {
			err = fmt.Errorf("larger than %d MiB (%d bytes)", limit>>20, limit)
		} else {
			err = fmt.Errorf("larger than %d KiB (%d bytes)", limit>>10, limit)
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return data, nil
}

// expandedSize returns the number of nodes under n with aliases expanded,
// stopping early once it exceeds maxExpandedNodes. memo holds the sizes of
// the nodes seen; -1 marks a node being counted (a cycle through it counts 1).
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int) int {
	if n.Kind == yaml.AliasNode {
		return 1 + expandedSize(n.Alias, memo)
	}
	if v, ok := memo[n]; ok {
		return max(v, 1)
	}
	memo[n] = -1
	size := 1
	for _, c := range n.Content {
		if size += expandedSize(c, memo); size > maxExpandedNodes {
			break
		}
	}
	memo[n] = size
	return size
}

// Redacted returns the effective configuration as YAML, for the /config page:
// defaults are filled in (project_id and the IAM endpoint too), secret values
// are SecretPlaceholder, access keys and *_file paths are shown as written,
// durations in Prometheus form. Comments say where each target's credentials
// come from and mark an automatic lookback. The output parses back to an
// equivalent configuration (with the same files and environment).
func (c *Config) Redacted() ([]byte, error) {
	targets := slices.Clone(c.Targets)
	for i, t := range targets {
		if t.Auth != nil && t.Auth.IAMEndpoint == "" && t.Credentials.Kind == CredentialsPassword {
			a := *t.Auth
			a.IAMEndpoint = t.Credentials.IAMEndpoint
			targets[i].Auth = &a
		}
	}
	var root yaml.Node
	if err := root.Encode(Config{Targets: targets}); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	_, seq := lookup(&root, "targets")
	tt := reflect.TypeFor[Target]()
	for i, item := range seq.Content {
		t := targets[i]
		for j := range tt.NumField() {
			if tt.Field(j).Type == durationType {
				_, v := lookup(item, tagName(tt.Field(j)))
				v.Value = model.Duration(reflect.ValueOf(t).Field(j).Int()).String()
			}
		}
		_, name := lookup(item, "name")
		name.LineComment = credentialsComment(t.Credentials)
		if t.Lookback == 0 {
			_, lb := lookup(item, "lookback")
			lb.LineComment = "auto: max(7d, 3 x the policy's expected interval)"
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := errors.Join(enc.Encode(&root), enc.Close()); err != nil {
		return nil, fmt.Errorf("encoding redacted config: %w", err)
	}
	return buf.Bytes(), nil
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
