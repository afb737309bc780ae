package config

import (
	"fmt"
	"strings"
)

// Method-less copies of the types that hold secrets, printed by the Format
// methods below.
type (
	plainAuth        Auth
	plainCredentials Credentials
	plainTarget      Target
	plainConfig      Config
)

// formatPlain prints v (a method-less copy of a value of type name) with the
// flags of f but always with verb v. Every type that holds a Secret has such
// a Format method because fmt prints a struct reached through a pointer
// with a verb that does not fit it (%s, %q) in an "error" mode that ignores
// Secret's Format method and would show the raw value; a Formatter on the
// pointed-to type is used before fmt gets there.
func formatPlain(f fmt.State, name string, plainName string, v any) {
	s := fmt.Sprintf(fmt.FormatString(f, 'v'), v)
	if f.Flag('#') {
		s = strings.Replace(s, "config."+plainName, "config."+name, 1)
	}
	_, _ = fmt.Fprint(f, s)
}

// Format prints the auth block like %v/%+v/%#v (whatever the verb), with
// secrets shown as SecretPlaceholder.
func (a Auth) Format(f fmt.State, _ rune) { formatPlain(f, "Auth", "plainAuth", plainAuth(a)) }

// Format prints the credentials like %v/%+v/%#v (whatever the verb), with
// secrets shown as SecretPlaceholder.
func (c Credentials) Format(f fmt.State, _ rune) {
	formatPlain(f, "Credentials", "plainCredentials", plainCredentials(c))
}

// Format prints the target like %v/%+v/%#v (whatever the verb), with secrets
// shown as SecretPlaceholder.
func (t Target) Format(f fmt.State, _ rune) { formatPlain(f, "Target", "plainTarget", plainTarget(t)) }

// Format prints the configuration like %v/%+v/%#v (whatever the verb), with
// secrets shown as SecretPlaceholder.
func (c Config) Format(f fmt.State, _ rune) { formatPlain(f, "Config", "plainConfig", plainConfig(c)) }
