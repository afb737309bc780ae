package config

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// echoMarker starts every secret the echo tests write; no message may hold it.
const echoMarker = "SeKrEt"

// secretLines are block-style configurations with a secret field's value
// left as %s, one per secret field.
var secretLines = []string{
	prod("    auth:\n      access_key: AK\n      secret_key: %s\n") + "  - name: b\n    region: eu-de\n    project_id: p2\n",
	prod("    auth:\n      access_key: AK\n      secret_key: sk\n      security_token: %s\n    page_size: 0\n"),
	prod("    policies: [a]\n    auth:\n      domain: d\n      user: u\n      password: %s\n"),
}

// FuzzSecretYAMLForms writes secrets in YAML-significant forms (alias,
// anchor, tag, directive and reserved indicators, quotes, flow syntax) and
// checks that no error ever repeats them: errors on a secret's line name
// the file, line and field only, and every message is scrubbed of every
// secret value. The seeds run in every go test.
func FuzzSecretYAMLForms(f *testing.F) {
	for _, form := range []string{"*%s", "&%s", "!%s", "%%%s", "@%s", "`%s", "\"%s", "'%s", "\"%s\"", "'%s'", "{%s", "[%s",
		"{%s}", "[%s]", "{a: %s}", "[a, %s]", "%s}", "%s]", "!!binary %s", "!x!y %s", "%s: x", "- %s", "? %s", "|%s", ">%s",
		"&a %s", "*%s x", "%s #c", "&%s {", "x, %s: y"} {
		pre, suf, _ := strings.Cut(form, "%s")
		for field := range secretLines {
			f.Add(uint8(field), pre, "Abc123", suf)
		}
	}
	f.Fuzz(func(t *testing.T, field uint8, pre, core, suf string) {
		if strings.ContainsAny(pre+core+suf, "\n\r\u0085\u2028\u2029") || !utf8.ValidString(pre+core+suf) {
			t.Skip() // a line break moves the rest out of the secret's line
		}
		value := pre + echoMarker + core + suf
		yml := fmt.Sprintf(secretLines[int(field)%len(secretLines)], value)
		_, err := Parse([]byte(yml), "c.yml", t.TempDir(), defaultEnv.lookup)
		if err != nil && strings.Contains(err.Error(), echoMarker) {
			t.Fatalf("the error repeats the secret %q:\n%v", value, err)
		}
	})
}

func TestSecretLineErrors(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{fmt.Sprintf(secretLines[0], "*SeKrEtAbc"),
			`c.yml:7: field auth.secret_key: invalid YAML (details not shown: the line holds a secret)`},
		{fmt.Sprintf(secretLines[2], "\"SeKrEt: x\" y"),
			`c.yml:9: field auth.password: invalid YAML (details not shown: the line holds a secret)`},
		{fmt.Sprintf(secretLines[1], "!tag SeKrEt"),
			"c.yml:8: target \"prod\": field auth.security_token: unsupported tag (not shown: the value is a secret)\n" +
				`c.yml:9: target "prod": field page_size: must be between 1 and 1000, got 0`},
		{prod("    auth: {access_key: AK, secret_key: *SeKrEt}\n"),
			`c.yml:5: field auth.secret_key: invalid YAML (details not shown: the line holds a secret)`},
	} {
		_, err := Parse([]byte(tc.yml), "c.yml", "", defaultEnv.lookup)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
}

// Every message is scrubbed of the secrets of every target, not just of
// the target it is about.
func TestErrorsScrubbedOfOtherTargetsSecrets(t *testing.T) {
	yml := prod("    policies: [\"beta-Pw93xLmc/x\", \"envsk-9876/y\", \"tok-4242/z\"]\n") +
		"  - name: beta\n    region: eu-de\n    project_id: p2\n    auth:\n      access_key: AK\n      secret_key: beta-Pw93xLmc\n" +
		"  - name: gamma\n    region: eu-de\n    project_id: p3\n    auth: {access_key: AK, secret_key: s, security_token_file: tok}\n"
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"tok": "tok-4242\n"})
	_, err := Parse([]byte(yml), "c.yml", dir, env{envAccessKey: "AK", envSecretKey: "envsk-9876"}.lookup)
	want := "c.yml:5: target \"prod\": field policies[0]: invalid policy ID \"<secret>/x\": use only letters, digits, '_' and '-'\n" +
		"c.yml:5: target \"prod\": field policies[1]: invalid policy ID \"<secret>/y\": use only letters, digits, '_' and '-'\n" +
		"c.yml:5: target \"prod\": field policies[2]: invalid policy ID \"<secret>/z\": use only letters, digits, '_' and '-'"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestLookbackWarning(t *testing.T) {
	c, err := Parse([]byte(prod("    lookback: 36h\n")+"  - name: b\n    region: eu-de\n    project_id: p2\n    lookback: 2d\n"+
		"  - name: auto\n    region: eu-de\n    project_id: p3\n"), "c.yml", "", defaultEnv.lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`c.yml:5: target "prod": field lookback: 1d12h is shorter than 2d, twice the interval of a daily schedule: a daily policy's last run can fall out of it and look missing`}
	if fmt.Sprint(c.Warnings) != fmt.Sprint(want) {
		t.Errorf("warnings:\n%q\nwant\n%q", c.Warnings, want)
	}
}
