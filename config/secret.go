package config

import (
	"fmt"
	"log/slog"
)

// SecretPlaceholder is what a Secret shows instead of its value wherever it is
// printed, logged or marshalled.
const SecretPlaceholder = "<secret>"

// Secret is a credential (secret key, security token, password) that never
// shows its value: String, GoString, Format (every fmt verb, so %v, %+v, %#v,
// %s, %q, %x and bad verbs alike), MarshalYAML, MarshalJSON, MarshalText and
// LogValue all give SecretPlaceholder. Code that needs the value (request
// signing, token requests) converts it explicitly: string(s).
type Secret string

// String returns SecretPlaceholder.
func (s Secret) String() string { return SecretPlaceholder }

// GoString returns SecretPlaceholder, so %#v does not reveal the value.
func (s Secret) GoString() string { return SecretPlaceholder }

// Format writes SecretPlaceholder for every verb and flag. Without it a verb
// that does not apply to strings (%d) would make fmt print the raw value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(SecretPlaceholder)) }

// MarshalYAML returns SecretPlaceholder.
func (s Secret) MarshalYAML() (any, error) { return SecretPlaceholder, nil }

// MarshalJSON returns SecretPlaceholder as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + SecretPlaceholder + `"`), nil }

// MarshalText returns SecretPlaceholder; text-based encoders and loggers use it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(SecretPlaceholder), nil }

// LogValue returns SecretPlaceholder for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(SecretPlaceholder) }
