package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretNeverShowsItsValue(t *testing.T) {
	const value = "hunter2-SECRET"
	s := Secret(value)
	auth := &Auth{AccessKey: "AK", SecretKey: s, SecurityToken: s, Password: s}
	target := Target{Name: "prod", Auth: auth, Credentials: Credentials{Kind: CredentialsAKSK, SecretKey: s, SecurityToken: s, Password: s}}
	cfg := &Config{Targets: []Target{target}}

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T %v"} {
		for _, arg := range []any{s, &s, auth, *auth, target, &target, cfg, *cfg, []Secret{s}, map[string]Secret{"k": s}, struct{ S Secret }{s},
			struct {
				T *Target
				C *Credentials
				X *Config
				A *Auth
			}{&target, &target.Credentials, cfg, auth}} {
			outputs = append(outputs, fmt.Sprintf(verb, arg))
		}
	}
	outputs = append(outputs, fmt.Sprint(s, auth), fmt.Sprintln(target), s.String(), s.GoString())

	for _, v := range []any{s, auth, target, cfg} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(j))
		y, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(y))
	}

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("msg", "secret", s, "auth", auth, "target", target, "creds", target.Credentials)
		l.Info("msg", slog.Any("secret", s), slog.String("str", s.String()))
	}
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if got := fmt.Sprintf("%v|%+v|%#v|%s|%d", s, s, s, s, s); got != "<secret>|<secret>|<secret>|<secret>|<secret>" {
		t.Errorf("got %s", got)
	}
	var back string
	if j, _ := json.Marshal(s); json.Unmarshal(j, &back) != nil || back != SecretPlaceholder {
		t.Errorf("JSON = %s", j)
	}
	if y, _ := yaml.Marshal(map[string]Secret{"k": s}); string(y) != "k: <secret>\n" {
		t.Errorf("YAML = %q", y)
	}
	// Types holding secrets still print their other fields.
	wantAuth := `config.Auth{AccessKey:"AK", AccessKeyFile:"", SecretKey:<secret>, SecretKeyFile:"", SecurityToken:<secret>, SecurityTokenFile:"", IAMEndpoint:"", Domain:"", User:"", Password:<secret>, PasswordFile:""}`
	if got := fmt.Sprintf("%#v", auth); got != wantAuth {
		t.Errorf("%%#v of *Auth = %s", got)
	}
	if got, want := fmt.Sprintf("%s", target.Credentials), "{aksk  <secret> <secret>    <secret> }"; got != want {
		t.Errorf("%%s of Credentials = %q, want %q", got, want)
	}
	if got := fmt.Sprintf("%+v", cfg); !strings.Contains(got, "{Targets:[{Name:prod Region:") {
		t.Errorf("%%+v of *Config = %s", got)
	}
	if got := fmt.Sprintf("%#v", cfg); !strings.HasPrefix(got, "config.Config{Targets:[]config.Target{config.Target{Name:\"prod\"") {
		t.Errorf("%%#v of *Config = %s", got)
	}

	// The value stays available to code that converts explicitly.
	if string(s) != value {
		t.Errorf("string(s) = %q", string(s))
	}
}
