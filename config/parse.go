package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
)

var (
	targetNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	regionRE     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	idRE         = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	yamlLineRE   = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
)

// The keys allowed at each level.
var (
	topFields    = []string{"targets"}
	targetFields = []string{"name", "region", "project_id", "endpoint", "auth", "policies", "lookback", "page_size", "concurrency", "min_refresh_interval"}
	authFields   = []string{
		"access_key", "access_key_file", "secret_key", "secret_key_file", "security_token", "security_token_file",
		"iam_endpoint", "domain", "user", "password", "password_file",
	}
	akskFields     = []string{"access_key", "access_key_file", "secret_key", "secret_key_file", "security_token", "security_token_file"}
	passwordFields = []string{"user", "domain", "password", "password_file", "iam_endpoint"}
)

// scalarTags are the tags a scalar may carry; others (!!binary, custom tags)
// are rejected rather than silently read as text.
var scalarTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true, "!!timestamp": true}

// parser walks the YAML node tree of one file and collects every error.
type parser struct {
	data      []byte
	file      string
	baseDir   string
	lookupEnv func(string) (string, bool)
	errs      []error
	dropped   int // errors found beyond maxErrors
}

// where says which target an error is in; nil outside targets.
type where struct {
	name  string // the target's name as written, if a string
	index int    // 1-based position in targets
}

// entry is one key and its value (aliases resolved) in a mapping.
type entry struct {
	key, val *yaml.Node
}

func (e entry) present() bool { return e.key != nil }

// isNull reports whether the value is absent, null or an empty scalar.
func (e entry) isNull() bool {
	return e.key == nil || (e.val.Kind == yaml.ScalarNode && (e.val.ShortTag() == "!!null" || e.val.Value == ""))
}

// errCount is the number of errors found so far, reported or not.
func (p *parser) errCount() int { return len(p.errs) + p.dropped }

// maxErrors bounds the errors reported for one file.
const maxErrors = 50

func (p *parser) fail(line int, w *where, field string, err error) {
	if len(p.errs) >= maxErrors {
		p.dropped++
		return
	}
	e := &Error{File: p.file, Line: line, Field: field, Err: err}
	if w != nil {
		e.Target, e.TargetIndex = w.name, w.index
	}
	p.errs = append(p.errs, e)
}

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner) errors. yaml.v3 reports their line 0-based (and leaves it out for
// the first line), while it reports scanner errors 1-based; syntax corrects it.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
	"found undefined tag handle":             true,
}

// syntax reports an error of the YAML parser, with its line when it has one.
func (p *parser) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line, msg = n, m[2]
		}
	}
	if parserProblems[msg] {
		line++
	}
	// An error at the end of the input is on the last line, not the one after.
	lines := bytes.Count(p.data, []byte("\n"))
	if len(p.data) > 0 && p.data[len(p.data)-1] != '\n' {
		lines++
	}
	line = min(line, max(lines, 1))
	p.fail(line, nil, "", &syntaxError{msg: "invalid YAML: " + msg, err: err})
}

func (p *parser) result(c *Config) (*Config, error) {
	if p.dropped > 0 {
		p.errs = append(p.errs, &Error{File: p.file, Err: fmt.Errorf("%d more errors not shown", p.dropped)})
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

func (p *parser) parse(data []byte) (*Config, error) {
	p.data = data
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.fail(0, nil, "targets", errors.New("at least one target is required (the file is empty)"))
		} else {
			p.syntax(err)
		}
		return p.result(nil)
	}
	// Anything after the first document must be empty ("---" at the end).
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.syntax(err)
			return p.result(nil)
		}
		if len(more.Content) > 0 && !(entry{key: &more, val: resolve(more.Content[0])}).isNull() {
			p.fail(more.Line, nil, "", errors.New("only one YAML document is allowed"))
			return p.result(nil)
		}
	}

	if n := expandedSize(&doc, map[*yaml.Node]int{}, maxExpandedNodes); n > maxExpandedNodes {
		p.fail(0, nil, "", fmt.Errorf("the document expands to more than %d YAML nodes through aliases", maxExpandedNodes))
		return p.result(nil)
	}

	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	if root == nil || (entry{key: &doc, val: root}).isNull() {
		p.fail(0, nil, "targets", errors.New("at least one target is required (the file is empty)"))
		return p.result(nil)
	}
	if root.Kind != yaml.MappingNode {
		p.fail(root.Line, nil, "", fmt.Errorf("expected a mapping with a targets list at the top level, got %s", describe(root)))
		return p.result(nil)
	}
	fields := p.fields(root, topFields, nil, "")
	tf := fields["targets"]
	switch {
	case !tf.present():
		p.fail(root.Line, nil, "targets", errors.New("at least one target is required"))
		return p.result(nil)
	case tf.isNull() || (tf.val.Kind == yaml.SequenceNode && len(tf.val.Content) == 0):
		p.fail(tf.key.Line, nil, "targets", errors.New("at least one target is required"))
		return p.result(nil)
	case tf.val.Kind != yaml.SequenceNode:
		p.fail(tf.key.Line, nil, "targets", fmt.Errorf("expected a list of targets, got %s", describe(tf.val)))
		return p.result(nil)
	}

	cfg := &Config{byName: make(map[string]int, len(tf.val.Content))}
	firstLine := make(map[string]int, len(tf.val.Content))
	for i, item := range tf.val.Content {
		t, nameLine, ok := p.target(resolve(item), item.Line, i+1)
		if !ok {
			continue
		}
		if prev, dup := firstLine[t.Name]; dup {
			p.fail(nameLine, &where{name: t.Name, index: i + 1}, "name",
				fmt.Errorf("duplicate target name (first defined at line %d)", prev))
			continue
		}
		firstLine[t.Name] = nameLine
		cfg.byName[t.Name] = len(cfg.Targets)
		cfg.Targets = append(cfg.Targets, t)
	}
	return p.result(cfg)
}

// maxExpandedNodes bounds the size of a document with its aliases expanded,
// so that a small file cannot make Parse (and Redacted) do a huge amount of
// work: a list of N aliases to a target with N aliased policies costs N*N.
const maxExpandedNodes = 200_000

// expandedSize returns the number of nodes under n with aliases expanded,
// stopping early once it exceeds limit. memo holds the sizes of the nodes
// seen; -1 marks a node being counted (an alias to it is a cycle, which
// Parse never follows far, and counts 1).
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, limit int) int {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1
		}
		return 1 + expandedSize(n.Alias, memo, limit)
	}
	if v, ok := memo[n]; ok {
		if v < 0 {
			return 1
		}
		return v
	}
	memo[n] = -1
	size := 1
	for _, c := range n.Content {
		size += expandedSize(c, memo, limit)
		if size > limit {
			break
		}
	}
	memo[n] = size
	return size
}

// resolve follows aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 || n.Alias == nil {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

// describe names the kind of a node for "expected X, got Y" messages; it
// never repeats a value, which might be a secret.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "something else"
}

// fields reads the keys of mapping n: each must be a string in allowed and
// appear once. parent is the dotted path of n, for messages.
func (p *parser) fields(n *yaml.Node, allowed []string, w *where, parent string) map[string]entry {
	out := make(map[string]entry, len(allowed))
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode := n.Content[i]
		k := resolve(keyNode)
		if k.Kind != yaml.ScalarNode {
			p.fail(keyNode.Line, w, parent, fmt.Errorf("keys must be strings, got %s", describe(k)))
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			p.fail(keyNode.Line, w, parent, fmt.Errorf("unknown field %s", quote(k.Value)))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			p.fail(keyNode.Line, w, join(parent, k.Value), fmt.Errorf("set twice (first at line %d)", prev.key.Line))
			continue
		}
		out[k.Value] = entry{key: keyNode, val: resolve(n.Content[i+1])}
	}
	return out
}

func join(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

// str returns the value of a string field, "" when absent or null. ok is
// false when an error was reported. The value is never repeated in errors.
func (p *parser) str(e entry, w *where, field string) (string, bool) {
	return p.scalar(e, w, field, "a string")
}

// scalar is str with the expected kind of value (for messages) given.
func (p *parser) scalar(e entry, w *where, field, want string) (string, bool) {
	if e.isNull() {
		return "", true
	}
	if e.val.Kind != yaml.ScalarNode {
		p.fail(e.key.Line, w, field, fmt.Errorf("expected %s, got %s", want, describe(e.val)))
		return "", false
	}
	if tag := e.val.ShortTag(); !scalarTags[tag] {
		p.fail(e.key.Line, w, field, fmt.Errorf("unsupported tag %s", quote(tag)))
		return "", false
	}
	return e.val.Value, true
}

// integer returns the value of an integer field in [lo, hi], def when absent.
func (p *parser) integer(e entry, w *where, field string, def, lo, hi int) (int, bool) {
	if e.isNull() {
		return def, true
	}
	if e.val.Kind != yaml.ScalarNode {
		p.fail(e.key.Line, w, field, fmt.Errorf("expected an integer, got %s", describe(e.val)))
		return 0, false
	}
	var v int64
	if e.val.ShortTag() != "!!int" || e.val.Decode(&v) != nil {
		p.fail(e.key.Line, w, field, fmt.Errorf("expected an integer between %d and %d, got %s", lo, hi, quote(e.val.Value)))
		return 0, false
	}
	if v < int64(lo) || v > int64(hi) {
		p.fail(e.key.Line, w, field, fmt.Errorf("must be between %d and %d, got %d", lo, hi, v))
		return 0, false
	}
	return int(v), true
}

// duration returns the value of a Prometheus-style duration field, 0 when absent.
func (p *parser) duration(e entry, w *where, field string) (time.Duration, bool) {
	s, ok := p.scalar(e, w, field, "a duration")
	if !ok || s == "" {
		return 0, ok
	}
	if strings.HasPrefix(s, "-") {
		p.fail(e.key.Line, w, field, fmt.Errorf("must not be negative, got %s", quote(s)))
		return 0, false
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		p.fail(e.key.Line, w, field, fmt.Errorf("invalid duration (examples: 90s, 30m, 168h, 7d, 1w): %w", err))
		return 0, false
	}
	return time.Duration(d), true
}

// endpoint validates an absolute http(s) URL and returns it without a
// trailing slash. The URL is never repeated in errors: it could hold a password.
func (p *parser) endpoint(e entry, w *where, field string) (string, bool) {
	s, ok := p.scalar(e, w, field, "a URL")
	if !ok || s == "" {
		return "", ok
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL itself
		}
		p.fail(e.key.Line, w, field, fmt.Errorf("invalid URL: %w", err))
		return "", false
	}
	switch {
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		p.fail(e.key.Line, w, field, errors.New("must be an absolute http:// or https:// URL"))
		return "", false
	case u.User != nil:
		p.fail(e.key.Line, w, field, errors.New("must not contain a user name or password"))
		return "", false
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		p.fail(e.key.Line, w, field, errors.New("must not have a query or fragment"))
		return "", false
	}
	return strings.TrimRight(s, "/"), true
}

// target parses one item of targets. It returns the line of the name for
// duplicate checks; ok is false when the target had errors.
func (p *parser) target(n *yaml.Node, line, index int) (t Target, nameLine int, ok bool) {
	errsBefore := p.errCount()
	w := &where{index: index}
	if n.Kind != yaml.MappingNode {
		p.fail(line, w, "", fmt.Errorf("expected a mapping, got %s", describe(n)))
		return Target{}, 0, false
	}
	// Label errors with the name when there is one, even before checking it.
	if v := resolve(mappingValue(n, "name")); v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
		w.name = v.Value
	}
	f := p.fields(n, targetFields, w, "")

	required := func(key string) string {
		s, ok := p.str(f[key], w, key)
		if ok && s == "" {
			l := line
			if f[key].present() {
				l = f[key].key.Line
			}
			p.fail(l, w, key, errors.New("required"))
		}
		return s
	}
	t.Name = required("name")
	if t.Name != "" && !targetNameRE.MatchString(t.Name) {
		p.fail(f["name"].key.Line, w, "name", errors.New("invalid target name: use only letters, digits, '_', '.' and '-'"))
	}
	if f["name"].present() {
		nameLine = f["name"].key.Line
	}
	t.Region = required("region")
	regionOK := t.Region != "" && regionRE.MatchString(t.Region)
	if t.Region != "" && !regionOK {
		p.fail(f["region"].key.Line, w, "region", fmt.Errorf("invalid region %s: use lowercase letters, digits and '-'", quote(t.Region)))
	}
	t.ProjectID = p.projectID(f, w, line)

	t.Endpoint, _ = p.endpoint(f["endpoint"], w, "endpoint")
	if t.Endpoint == "" && regionOK {
		t.Endpoint = endpoints.Default(endpoints.VBS, t.Region)
	}

	t.Policies = p.policies(f["policies"], w)
	t.Lookback, _ = p.duration(f["lookback"], w, "lookback")
	t.MinRefreshInterval, _ = p.duration(f["min_refresh_interval"], w, "min_refresh_interval")
	t.PageSize, _ = p.integer(f["page_size"], w, "page_size", DefaultPageSize, 1, MaxPageSize)
	t.Concurrency, _ = p.integer(f["concurrency"], w, "concurrency", DefaultConcurrency, 1, MaxConcurrency)

	t.Auth, t.Credentials = p.auth(f["auth"], w, line, t.Region)
	return t, nameLine, p.errCount() == errsBefore
}

// projectID returns the target's project_id. A target without an auth block
// (environment credentials) that does not set project_id takes it from
// HUAWEICLOUD_SDK_PROJECT_ID, as the vendor's SDKs do; with an auth block
// project_id is required in the file. line is the target's line.
func (p *parser) projectID(f map[string]entry, w *where, line int) string {
	e := f["project_id"]
	id, ok := p.str(e, w, "project_id")
	if !ok {
		return ""
	}
	if id != "" {
		if !idRE.MatchString(id) {
			p.fail(e.key.Line, w, "project_id", fmt.Errorf("invalid project ID %s: use only letters, digits, '_' and '-'", quote(id)))
		}
		return id
	}
	l := line
	if e.present() {
		l = e.key.Line
	}
	if !f["auth"].isNull() {
		p.fail(l, w, "project_id", errors.New("required"))
		return ""
	}
	id, _ = p.lookupEnv(EnvProjectID)
	switch {
	case id == "":
		p.fail(l, w, "project_id", fmt.Errorf("required (or %s in the environment, for a target without auth)", EnvProjectID))
	case !idRE.MatchString(id):
		p.fail(l, w, "project_id", fmt.Errorf("invalid project ID %s from %s: use only letters, digits, '_' and '-'", quote(id), EnvProjectID))
	}
	return id
}

// policies parses the optional list of policy IDs.
func (p *parser) policies(e entry, w *where) []string {
	if e.isNull() {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		p.fail(e.key.Line, w, "policies", fmt.Errorf("expected a list of policy IDs, got %s", describe(e.val)))
		return nil
	}
	var ids []string
	seen := make(map[string]int, len(e.val.Content))
	for i, raw := range e.val.Content {
		item := resolve(raw)
		field := fmt.Sprintf("policies[%d]", i)
		id, ok := p.scalar(entry{key: raw, val: item}, w, field, "a policy ID")
		switch {
		case !ok:
		case id == "":
			p.fail(raw.Line, w, field, errors.New("empty policy ID"))
		case !idRE.MatchString(id):
			p.fail(raw.Line, w, field, fmt.Errorf("invalid policy ID %s: use only letters, digits, '_' and '-'", quote(id)))
		case seen[id] != 0:
			p.fail(raw.Line, w, field, fmt.Errorf("duplicate policy ID %s (first listed at line %d)", quote(id), seen[id]))
		default:
			seen[id] = raw.Line
			ids = append(ids, id)
		}
	}
	return ids
}

// auth parses the auth block (or, without one, reads the environment) and
// resolves the credentials. targetLine is used for errors about a missing block.
func (p *parser) auth(e entry, w *where, targetLine int, region string) (*Auth, Credentials) {
	if e.isNull() {
		return nil, p.envCredentials(w, targetLine)
	}
	line := e.key.Line
	if e.val.Kind != yaml.MappingNode {
		p.fail(line, w, "auth", fmt.Errorf("expected a mapping, got %s", describe(e.val)))
		return nil, Credentials{}
	}
	errsBefore := p.errCount()
	f := p.fields(e.val, authFields, w, "auth")
	vals := make(map[string]string, len(f))
	for _, k := range authFields {
		if v, ok := p.str(f[k], w, "auth."+k); ok && v != "" {
			vals[k] = v
		}
	}
	if p.errCount() != errsBefore {
		return nil, Credentials{}
	}
	a := &Auth{
		AccessKey: vals["access_key"], AccessKeyFile: vals["access_key_file"],
		SecretKey: Secret(vals["secret_key"]), SecretKeyFile: vals["secret_key_file"],
		SecurityToken: Secret(vals["security_token"]), SecurityTokenFile: vals["security_token_file"],
		IAMEndpoint: vals["iam_endpoint"], Domain: vals["domain"], User: vals["user"],
		Password: Secret(vals["password"]), PasswordFile: vals["password_file"],
	}

	for _, k := range []string{"access_key", "secret_key", "security_token", "password"} {
		if vals[k] != "" && vals[k+"_file"] != "" {
			p.fail(f[k+"_file"].key.Line, w, "auth", fmt.Errorf("both %s and %s_file are set; choose one", k, k))
		}
	}
	if p.errCount() != errsBefore {
		return nil, Credentials{}
	}
	first := func(keys []string) string {
		for _, k := range keys {
			if vals[k] != "" {
				return k
			}
		}
		return ""
	}
	ak, pw := first(akskFields), first(passwordFields)
	switch {
	case ak != "" && pw != "":
		p.fail(line, w, "auth", fmt.Errorf("both AK/SK (%s) and IAM password (%s) are set; choose one", ak, pw))
		return nil, Credentials{}
	case ak == "" && pw == "":
		p.fail(line, w, "auth", errors.New("no credentials: set access_key and secret_key, or domain, user and password (or remove auth to use the environment)"))
		return nil, Credentials{}
	case ak != "":
		return a, p.akskCredentials(a, f, w, line)
	default:
		return a, p.passwordCredentials(a, f, w, line, region)
	}
}

func (p *parser) akskCredentials(a *Auth, f map[string]entry, w *where, line int) Credentials {
	errsBefore := p.errCount()
	if a.AccessKey == "" && a.AccessKeyFile == "" {
		p.fail(line, w, "auth.access_key", errors.New("required for AK/SK authentication (or auth.access_key_file)"))
	}
	if a.SecretKey == "" && a.SecretKeyFile == "" {
		p.fail(line, w, "auth.secret_key", errors.New("required for AK/SK authentication (or auth.secret_key_file)"))
	}
	if p.errCount() != errsBefore {
		return Credentials{}
	}
	c := Credentials{Kind: CredentialsAKSK, AccessKey: a.AccessKey, SecretKey: a.SecretKey, SecurityToken: a.SecurityToken, Source: SourceConfig}
	if a.AccessKeyFile != "" {
		c.AccessKey = p.readSecret(f["access_key_file"], w, "auth.access_key_file", a.AccessKeyFile)
	}
	if a.SecretKeyFile != "" {
		c.SecretKey = Secret(p.readSecret(f["secret_key_file"], w, "auth.secret_key_file", a.SecretKeyFile))
	}
	if a.SecurityTokenFile != "" {
		c.SecurityToken = Secret(p.readSecret(f["security_token_file"], w, "auth.security_token_file", a.SecurityTokenFile))
	}
	return c
}

func (p *parser) passwordCredentials(a *Auth, f map[string]entry, w *where, line int, region string) Credentials {
	errsBefore := p.errCount()
	if a.Domain == "" {
		p.fail(line, w, "auth.domain", errors.New("required for IAM password authentication"))
	}
	if a.User == "" {
		p.fail(line, w, "auth.user", errors.New("required for IAM password authentication"))
	}
	if a.Password == "" && a.PasswordFile == "" {
		p.fail(line, w, "auth.password", errors.New("required for IAM password authentication (or auth.password_file)"))
	}
	iam, ok := p.endpoint(f["iam_endpoint"], w, "auth.iam_endpoint")
	if p.errCount() != errsBefore || !ok {
		return Credentials{}
	}
	if iam == "" {
		iam = endpoints.Default(endpoints.IAM, region)
	}
	c := Credentials{Kind: CredentialsPassword, IAMEndpoint: iam, Domain: a.Domain, User: a.User, Password: a.Password, Source: SourceConfig}
	if a.PasswordFile != "" {
		c.Password = Secret(p.readSecret(f["password_file"], w, "auth.password_file", a.PasswordFile))
	}
	return c
}

// envCredentials takes AK/SK (and a security token, if set) from the environment.
func (p *parser) envCredentials(w *where, line int) Credentials {
	get := func(name string) string {
		v, _ := p.lookupEnv(name)
		return v
	}
	ak, sk, token := get(EnvAccessKey), get(EnvSecretKey), get(EnvSecurityToken)
	var missing []string
	if ak == "" {
		missing = append(missing, EnvAccessKey)
	}
	if sk == "" {
		missing = append(missing, EnvSecretKey)
	}
	if len(missing) > 0 {
		p.fail(line, w, "auth", fmt.Errorf("not set, and the environment lacks %s", strings.Join(missing, " and ")))
		return Credentials{}
	}
	return Credentials{Kind: CredentialsAKSK, AccessKey: ak, SecretKey: Secret(sk), SecurityToken: Secret(token), Source: SourceEnv}
}

// readSecret reads a secret file (relative to the config's directory) and
// reports a problem at the line of its key. Errors name the path, never the content.
func (p *parser) readSecret(e entry, w *where, field, path string) string {
	if !filepath.IsAbs(path) && p.baseDir != "" {
		path = filepath.Join(p.baseDir, path)
	}
	s, err := readSecretFile(path)
	if err != nil {
		p.fail(e.key.Line, w, field, err)
		return ""
	}
	return s
}

// readSecretFile returns the content of a regular file of at most
// MaxSecretFileSize bytes with trailing whitespace trimmed; it must not be empty.
// Special files are refused: opening a FIFO or reading a device could block
// or never end.
func readSecretFile(path string) (string, error) {
	// Errors never quote the path: a secret pasted by mistake into a *_file
	// field would otherwise come back in the error, the log and the reload
	// answer. The line number says which value is meant.
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", pathless(err))
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("cannot read secret file: not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", pathless(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", pathless(err))
	}
	if len(data) > MaxSecretFileSize {
		return "", fmt.Errorf("cannot read secret file: larger than %d bytes", MaxSecretFileSize)
	}
	s := strings.TrimRight(string(data), " \t\r\n")
	if s == "" {
		return "", errors.New("secret file is empty")
	}
	return s, nil
}

// pathless strips the path from a *fs.PathError, keeping the OS error (which
// errors.Is still sees, e.g. fs.ErrNotExist).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
