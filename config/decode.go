package config

import (
	"cmp"
	"errors"
	"fmt"
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
	secretRE     = regexp.MustCompile(`secret_key|security_token|password`)

	durationType = reflect.TypeFor[time.Duration]()
	nodeType     = reflect.TypeFor[*yaml.Node]()

	// Settings checked beyond their Go type, by field: the range of every
	// integer and the fields that hold a URL.
	intRange  = map[string][2]int64{"page_size": {1, maxPageSize}, "concurrency": {1, maxConcurrency}}
	urlFields = map[string]bool{"endpoint": true, "auth.iam_endpoint": true, "evs_endpoint": true}

	// scalarTags are the tags a scalar may carry; others (!!binary, custom
	// tags) are rejected rather than silently read as text.
	scalarTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true, "!!timestamp": true}
)

// UnmarshalYAML decodes one item of targets, with the defaults service vbs,
// page_size 100 (1000 for CBR), concurrency 4 and the region's endpoints.
// Unknown and repeated keys and values of the wrong kind are errors; it
// returns every problem found (a problems value), positioned by the nodes.
// Credentials are left to Parse, which knows the environment and the
// file's directory.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	*t = Target{}
	ps := decodeFields(n, t, "")
	if n.Kind != yaml.MappingNode {
		return ps
	}
	at := func(field string) int { return cmp.Or(keyLine(n, field), n.Line) }
	required := func(field, v string) {
		if v == "" && !ps.has(field) {
			ps.add(at(field), field, "required")
		}
	}
	required("name", t.Name)
	if t.Name != "" && !targetNameRE.MatchString(t.Name) {
		ps.add(at("name"), "name", "invalid target name: use only letters, digits, '_', '.' and '-'")
	}
	required("region", t.Region)
	if t.Region != "" && !regionRE.MatchString(t.Region) {
		ps.add(at("region"), "region", "invalid region %s: use lowercase letters, digits and '-'", quote(t.Region))
	}
	if t.ProjectID != "" && !idRE.MatchString(t.ProjectID) {
		ps.add(at("project_id"), "project_id", "invalid project ID %s: use only letters, digits, '_' and '-'", quote(t.ProjectID))
	}
	service, pageSize := endpoints.VBS, DefaultPageSize
	switch t.Service {
	case "":
		t.Service = ServiceVBS
	case ServiceVBS:
	case ServiceCBR:
		service, pageSize = endpoints.CBR, DefaultCBRPageSize
		if t.ResourceNames {
			ps.add(at("resource_names"), "resource_names", "applies to VBS targets only: CBR jobs carry their resource's name")
		}
		if t.EVSEndpoint != "" {
			ps.add(at("evs_endpoint"), "evs_endpoint", "applies to VBS targets only (with resource_names)")
		}
	default:
		ps.add(at("service"), "service", "unknown service %s: use %s or %s", quote(t.Service), quote(ServiceVBS), quote(ServiceCBR))
	}
	t.PageSize, t.Concurrency = cmp.Or(t.PageSize, pageSize), cmp.Or(t.Concurrency, DefaultConcurrency)
	t.Endpoint, t.EVSEndpoint = strings.TrimRight(t.Endpoint, "/"), strings.TrimRight(t.EVSEndpoint, "/")
	if regionRE.MatchString(t.Region) {
		if t.Endpoint == "" {
			t.Endpoint = endpoints.Default(service, t.Region)
		}
		if t.ResourceNames && t.EVSEndpoint == "" { // EVS is read only for disk names
			t.EVSEndpoint = endpoints.Default(endpoints.EVS, t.Region)
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// decodeFields decodes mapping n into the struct v points to, field by field
// by yaml tag; prefix is the struct's field path in messages. A key must
// name a field and appear once; a null or empty value leaves the field zero.
func decodeFields(n *yaml.Node, v any, prefix string) (ps problems) {
	if n.Kind != yaml.MappingNode {
		ps.add(n.Line, prefix, "expected a mapping, got %s", describe(n))
		return ps
	}
	rv, seen := reflect.ValueOf(v).Elem(), map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, k, vn := n.Content[i], resolve(n.Content[i]), resolve(n.Content[i+1])
		f, known := fieldByTag(rv.Type(), k.Value)
		field := strings.TrimPrefix(prefix+"."+k.Value, ".")
		switch {
		case k.Kind != yaml.ScalarNode:
			ps.add(kn.Line, prefix, "keys must be strings, got %s", describe(k))
		case !known:
			ps.add(kn.Line, prefix, "unknown field %s", quote(k.Value))
		case seen[field] != 0:
			ps.add(kn.Line, field, "set twice (first at line %d)", seen[field])
		default:
			seen[field] = kn.Line
			if !isNull(vn) {
				decodeValue(kn.Line, field, vn, rv.Field(f), &ps)
			}
		}
	}
	return ps
}

// fieldByTag returns the index of the exported field of struct type st
// whose yaml tag names key.
func fieldByTag(st reflect.Type, key string) (int, bool) {
	for i := range st.NumField() {
		if name := tagName(st.Field(i)); name == key && name != "-" && st.Field(i).IsExported() {
			return i, true
		}
	}
	return 0, false
}

// tagName returns the key a struct field has in YAML.
func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// decodeValue decodes vn into field fv (named field, at line) by its type.
func decodeValue(line int, field string, vn *yaml.Node, fv reflect.Value, ps *problems) {
	switch t := fv.Type(); {
	case t == nodeType:
		fv.Set(reflect.ValueOf(vn))
	case t.Kind() == reflect.Pointer:
		fv.Set(reflect.New(t.Elem()))
		*ps = append(*ps, decodeFields(vn, fv.Interface(), field)...)
	case t.Kind() == reflect.Slice:
		fv.Set(reflect.ValueOf(policyIDs(line, field, vn, ps)))
	case t.Kind() == reflect.Bool || t.Kind() == reflect.Int:
		r, tag, want := intRange[field], "!!bool", "true or false"
		if t.Kind() == reflect.Int {
			tag, want = "!!int", "an integer"
		}
		switch {
		case vn.Kind != yaml.ScalarNode:
			ps.add(line, field, "expected %s, got %s", want, describe(vn))
		case vn.ShortTag() != tag || vn.Decode(fv.Addr().Interface()) != nil:
			if t.Kind() == reflect.Int {
				want += fmt.Sprintf(" between %d and %d", r[0], r[1])
			}
			ps.add(line, field, "expected %s, got %s", want, quote(vn.Value))
		case t.Kind() == reflect.Int && (fv.Int() < r[0] || fv.Int() > r[1]):
			ps.add(line, field, "must be between %d and %d, got %d", r[0], r[1], fv.Int())
		}
	case t == durationType:
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
	case urlFields[field]:
		if s, ok := scalar(line, field, vn, "a URL", ps); ok && checkURL(line, field, s, ps) {
			fv.SetString(s)
		}
	default:
		if s, ok := scalar(line, field, vn, "a string", ps); ok {
			fv.SetString(s)
		}
	}
}

// scalar returns the text of a scalar value; ok is false when it reported a
// problem. The value is never repeated in errors, nor is a secret's tag.
func scalar(line int, field string, vn *yaml.Node, want string, ps *problems) (string, bool) {
	switch tag := vn.ShortTag(); {
	case vn.Kind != yaml.ScalarNode:
		ps.add(line, field, "expected %s, got %s", want, describe(vn))
	case scalarTags[tag]:
		return vn.Value, true
	case secretRE.MatchString(field):
		ps.add(line, field, "unsupported tag (not shown: the value is a secret)")
	default:
		ps.add(line, field, "unsupported tag %s", quote(tag))
	}
	return "", false
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

// resolve returns the node an alias stands for (yaml.v3 sets Alias on every
// alias it parses, and never to another alias), else n.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// isNull reports whether n is absent, null or an empty scalar.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!null" || n.Value == ""))
}

// kindNames name the kinds of (resolved) nodes for "expected X, got Y"
// messages, which never repeat a value: it might be a secret.
var kindNames = map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: "a scalar"}

func describe(n *yaml.Node) string { return kindNames[n.Kind] }

// lookup returns the first key called key in mapping n and its value, or nils.
func lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if resolve(n.Content[i]).Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// keyLine returns the line of the key at dotted path field in mapping n (of
// the first of repeated keys), 0 if it is absent.
func keyLine(n *yaml.Node, field string) int {
	key, rest, nested := strings.Cut(field, ".")
	switch k, v := lookup(n, key); {
	case k == nil:
		return 0
	case nested:
		return keyLine(resolve(v), rest)
	default:
		return k.Line
	}
}
