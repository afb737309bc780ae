package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"regexp"
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

	durationType = reflect.TypeOf(time.Duration(0))
	nodeType     = reflect.TypeOf(&yaml.Node{})
)

// Settings checked beyond their Go type, by YAML key: integer ranges (an
// integer without one takes any value) and the fields that hold a URL.
// Every other setting needs only its struct field.
var (
	intRange  = map[string][2]int{"page_size": {1, maxPageSize}, "concurrency": {1, maxConcurrency}}
	urlFields = map[string]bool{"endpoint": true, "iam_endpoint": true, "evs_endpoint": true}
)

// scalarTags are the tags a scalar may carry; others (!!binary, custom tags)
// are rejected rather than silently read as text.
var scalarTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true, "!!timestamp": true}

// problems collects the errors found in one file; as an error it is their
// errors.Join.
type problems []*configError

func (ps *problems) add(line int, field, format string, args ...any) {
	*ps = append(*ps, &configError{Line: line, Field: field, Err: fmt.Errorf(format, args...)})
}

func (ps problems) Error() string { return ps.join().Error() }

func (ps problems) join() error {
	errs := make([]error, len(ps))
	for i, e := range ps {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// UnmarshalYAML decodes one item of targets with the defaults service vbs,
// page_size 100 (1000 for CBR), concurrency 4 and the region's endpoint of
// the service. Unknown and repeated keys and
// values of the wrong kind are errors; it returns every problem found
// (a problems value), with positions taken from the nodes. Credentials are
// left to Parse, which knows the environment and the file's directory.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	*t = Target{PageSize: DefaultPageSize, Concurrency: DefaultConcurrency, line: n.Line}
	var ps problems
	if n.Kind != yaml.MappingNode {
		ps.add(n.Line, "", "expected a mapping, got %s", describe(n))
		return ps
	}
	t.keys = decodeFields(n, t, &ps)
	if av := resolve(mappingValue(n, "auth")); av != nil && av.Kind == yaml.MappingNode {
		for i := len(av.Content) - 2; i >= 0; i -= 2 { // the first of repeated keys wins
			t.keys["auth."+resolve(av.Content[i]).Value] = av.Content[i].Line
		}
	}
	required := func(field, v string) {
		if v == "" && !t.failed(ps, field) {
			ps.add(t.lineOf(field), field, "required")
		}
	}
	required("name", t.Name)
	if t.Name != "" && !targetNameRE.MatchString(t.Name) {
		ps.add(t.keys["name"], "name", "invalid target name: use only letters, digits, '_', '.' and '-'")
	}
	required("region", t.Region)
	if t.Region != "" && !regionRE.MatchString(t.Region) {
		ps.add(t.keys["region"], "region", "invalid region %s: use lowercase letters, digits and '-'", quote(t.Region))
	}
	if t.ProjectID != "" && !idRE.MatchString(t.ProjectID) {
		ps.add(t.keys["project_id"], "project_id", "invalid project ID %s: use only letters, digits, '_' and '-'", quote(t.ProjectID))
	}
	service := endpoints.VBS
	switch t.Service {
	case "":
		t.Service = ServiceVBS
	case ServiceVBS:
	case ServiceCBR:
		service = endpoints.CBR
		if _, set := t.keys["page_size"]; !set {
			t.PageSize = DefaultCBRPageSize
		}
		if t.ResourceNames {
			ps.add(t.keys["resource_names"], "resource_names", "applies to VBS targets only: CBR jobs carry their resource's name")
		}
		if t.EVSEndpoint != "" {
			ps.add(t.keys["evs_endpoint"], "evs_endpoint", "applies to VBS targets only (with resource_names)")
		}
	default:
		ps.add(t.keys["service"], "service", "unknown service %s: use %s or %s", quote(t.Service), quote(ServiceVBS), quote(ServiceCBR))
	}
	t.Endpoint = strings.TrimRight(t.Endpoint, "/")
	if t.Endpoint == "" && regionRE.MatchString(t.Region) {
		t.Endpoint = endpoints.Default(service, t.Region)
	}
	t.EVSEndpoint = strings.TrimRight(t.EVSEndpoint, "/")
	if t.ResourceNames && t.EVSEndpoint == "" && regionRE.MatchString(t.Region) {
		// EVS is read only for disk names: without them no default is set.
		t.EVSEndpoint = endpoints.Default(endpoints.EVS, t.Region)
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// failed reports whether ps already holds a problem with field.
func (t *Target) failed(ps problems, field string) bool {
	for _, p := range ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

// lineOf is the line of key field, or of the target when it is absent.
func (t *Target) lineOf(field string) int {
	if l, ok := t.keys[field]; ok {
		return l
	}
	return t.line
}

// UnmarshalYAML decodes an auth block. Which credentials it holds is checked
// when Parse resolves them.
func (a *Auth) UnmarshalYAML(n *yaml.Node) error {
	*a = Auth{}
	var ps problems
	if n.Kind != yaml.MappingNode {
		ps.add(n.Line, "", "expected a mapping, got %s", describe(n))
		return ps
	}
	decodeFields(n, a, &ps)
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// decodeFields decodes mapping n into the struct v points to, field by field
// by yaml tag: a key must name a field and appear once, and a null or empty
// value keeps the field's default. It returns the line of each key.
func decodeFields(n *yaml.Node, v any, ps *problems) map[string]int {
	rv := reflect.ValueOf(v).Elem()
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], resolve(n.Content[i+1])
		k := resolve(kn)
		if k.Kind != yaml.ScalarNode {
			ps.add(kn.Line, "", "keys must be strings, got %s", describe(k))
			continue
		}
		f, ok := fieldByTag(rv.Type(), k.Value)
		switch {
		case !ok:
			ps.add(kn.Line, "", "unknown field %s", quote(k.Value))
			continue
		case lines[k.Value] != 0:
			ps.add(kn.Line, k.Value, "set twice (first at line %d)", lines[k.Value])
			continue
		}
		lines[k.Value] = kn.Line
		if !isNull(vn) {
			decodeValue(kn.Line, k.Value, vn, rv.Field(f), ps)
		}
	}
	return lines
}

// fieldByTag returns the index of the field of struct type st whose yaml
// tag names key.
func fieldByTag(st reflect.Type, key string) (int, bool) {
	for i := range st.NumField() {
		f := st.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); f.IsExported() && name == key && name != "-" {
			return i, true
		}
	}
	return 0, false
}

// decodeValue decodes vn into field fv (named field, at line) by its type.
func decodeValue(line int, field string, vn *yaml.Node, fv reflect.Value, ps *problems) {
	switch {
	case fv.Type() == nodeType:
		fv.Set(reflect.ValueOf(vn))
	case fv.Type() == durationType:
		s, ok := scalar(line, field, vn, "a duration", ps)
		if !ok {
			return
		}
		if strings.HasPrefix(s, "-") {
			ps.add(line, field, "must not be negative, got %s", quote(s))
			return
		}
		d, err := model.ParseDuration(s)
		if err != nil {
			ps.add(line, field, "invalid duration (examples: 90s, 30m, 168h, 7d, 1w): %w", err)
			return
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		want := "a string"
		if urlFields[field] {
			want = "a URL"
		}
		if s, ok := scalar(line, field, vn, want, ps); ok && (!urlFields[field] || checkURL(line, field, s, ps)) {
			fv.SetString(s)
		}
	case fv.Kind() == reflect.Bool:
		var v bool
		if vn.Kind != yaml.ScalarNode {
			ps.add(line, field, "expected true or false, got %s", describe(vn))
		} else if vn.ShortTag() != "!!bool" || vn.Decode(&v) != nil {
			ps.add(line, field, "expected true or false, got %s", quote(vn.Value))
		} else {
			fv.SetBool(v)
		}
	case fv.Kind() == reflect.Int:
		r, ok := intRange[field]
		if !ok {
			r = [2]int{math.MinInt, math.MaxInt}
		}
		var v int64
		if vn.Kind != yaml.ScalarNode {
			ps.add(line, field, "expected an integer, got %s", describe(vn))
		} else if vn.ShortTag() != "!!int" || vn.Decode(&v) != nil {
			ps.add(line, field, "expected an integer between %d and %d, got %s", r[0], r[1], quote(vn.Value))
		} else if v < int64(r[0]) || v > int64(r[1]) {
			ps.add(line, field, "must be between %d and %d, got %d", r[0], r[1], v)
		} else {
			fv.SetInt(v)
		}
	case fv.Kind() == reflect.Slice:
		fv.Set(reflect.ValueOf(policyIDs(line, field, vn, ps)))
	case fv.Kind() == reflect.Pointer:
		fv.Set(reflect.New(fv.Type().Elem()))
		err := fv.Interface().(yaml.Unmarshaler).UnmarshalYAML(vn)
		var nested problems
		if errors.As(err, &nested) {
			for _, p := range nested {
				p.Field = join(field, p.Field)
				if p.Line == 0 {
					p.Line = line
				}
				*ps = append(*ps, p)
			}
		}
	}
}

func join(parent, field string) string {
	if field == "" {
		return parent
	}
	return parent + "." + field
}

// scalar returns the text of a scalar value; ok is false when it reported a
// problem. The value is never repeated in errors, nor is a secret's tag.
func scalar(line int, field string, vn *yaml.Node, want string, ps *problems) (string, bool) {
	if vn.Kind != yaml.ScalarNode {
		ps.add(line, field, "expected %s, got %s", want, describe(vn))
		return "", false
	}
	if tag := vn.ShortTag(); !scalarTags[tag] {
		if strings.Contains(field, "secret_key") || strings.Contains(field, "security_token") || strings.Contains(field, "password") {
			tag = "(not shown: the value is a secret)"
		} else {
			tag = quote(tag)
		}
		ps.add(line, field, "unsupported tag %s", tag)
		return "", false
	}
	return vn.Value, true
}

// checkURL checks an absolute http(s) URL. The URL is never repeated in
// errors: it could hold a password.
func checkURL(line int, field, s string, ps *problems) bool {
	u, err := url.Parse(s)
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		ps.add(line, field, "invalid URL: %w", ue.Err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		ps.add(line, field, "must be an absolute http:// or https:// URL")
	case u.User != nil:
		ps.add(line, field, "must not contain a user name or password")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		ps.add(line, field, "must not have a query or fragment")
	default:
		return true
	}
	return false
}

// policyIDs decodes a list of distinct policy IDs.
func policyIDs(line int, field string, vn *yaml.Node, ps *problems) []string {
	if vn.Kind != yaml.SequenceNode {
		ps.add(line, field, "expected a list of policy IDs, got %s", describe(vn))
		return nil
	}
	var ids []string
	seen := map[string]int{}
	for i, raw := range vn.Content {
		f, item := fmt.Sprintf("%s[%d]", field, i), resolve(raw)
		id, ok := "", true
		if !isNull(item) {
			id, ok = scalar(raw.Line, f, item, "a policy ID", ps)
		}
		switch {
		case !ok:
		case id == "":
			ps.add(raw.Line, f, "empty policy ID")
		case !idRE.MatchString(id):
			ps.add(raw.Line, f, "invalid policy ID %s: use only letters, digits, '_' and '-'", quote(id))
		case seen[id] != 0:
			ps.add(raw.Line, f, "duplicate policy ID %s (first listed at line %d)", quote(id), seen[id])
		default:
			seen[id] = raw.Line
			ids = append(ids, id)
		}
	}
	return ids
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

// isNull reports whether n is absent, null or an empty scalar.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!null" || n.Value == ""))
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
