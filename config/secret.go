package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// SecretPlaceholder is what a Secret shows instead of its value wherever it is
// printed, logged or marshalled.
const SecretPlaceholder = "<secret>"

// Secret is a credential (secret key, security token, password) that never
// shows its value: fmt (every verb), log/slog, encoding/json, yaml.v3 and
// other text encoders (through MarshalText) all give SecretPlaceholder. Code
// that needs the value converts it explicitly: string(s).
type Secret string

// String returns SecretPlaceholder.
func (s Secret) String() string { return SecretPlaceholder }

// GoString returns SecretPlaceholder, so %#v does not reveal the value.
func (s Secret) GoString() string { return SecretPlaceholder }

// Format writes SecretPlaceholder for every verb and flag. Without it a verb
// that does not apply to strings (%d) would make fmt print the raw value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(SecretPlaceholder)) }

// MarshalText returns SecretPlaceholder; JSON, YAML and text encoders use it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(SecretPlaceholder), nil }

// LogValue returns SecretPlaceholder for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(SecretPlaceholder) }

// Method-less copies of the types that hold secrets, printed by the Format
// methods below.
type (
	plainAuth        Auth
	plainCredentials Credentials
	plainTarget      Target
	plainConfig      Config
)

// formatPlain prints v, a method-less copy of a value of type name, with the
// flags of f but always with verb v. Every type that holds a Secret needs
// such a Format method: fmt prints a struct reached through a pointer with
// a verb that does not fit it (%s, %q) in an "error" mode that ignores
// Secret's Format method and would show the raw value.
func formatPlain(f fmt.State, name string, v any) {
	s := fmt.Sprintf(fmt.FormatString(f, 'v'), v)
	if f.Flag('#') {
		s = strings.Replace(s, "config.plain"+name, "config."+name, 1)
	}
	_, _ = fmt.Fprint(f, s)
}

// Format prints the auth block like %v/%+v/%#v, secrets as SecretPlaceholder.
func (a Auth) Format(f fmt.State, _ rune) { formatPlain(f, "Auth", plainAuth(a)) }

// Format prints the credentials like %v/%+v/%#v, secrets as SecretPlaceholder.
func (c Credentials) Format(f fmt.State, _ rune) { formatPlain(f, "Credentials", plainCredentials(c)) }

// Format prints the target like %v/%+v/%#v, secrets as SecretPlaceholder.
func (t Target) Format(f fmt.State, _ rune) { formatPlain(f, "Target", plainTarget(t)) }

// Format prints the configuration like %v/%+v/%#v, secrets as SecretPlaceholder.
func (c Config) Format(f fmt.State, _ rune) { formatPlain(f, "Config", plainConfig(c)) }
