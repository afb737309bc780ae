package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgokit "github.com/tjhop/slog-gokit"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// logLeadingKeys start every log line, in this order, whether the line comes
// from the exporter's go-kit logger or from the exporter toolkit's slog
// records (which slog-gokit hands over as level, caller, time, msg).
var logLeadingKeys = [...]string{"ts", "level", "caller", "msg"}

// newLogger returns the application's go-kit logger and a *slog.Logger that
// writes into the same stream, for the exporter toolkit. Both put the keys
// of logLeadingKeys first, in that order, in logfmt and in JSON, and both
// write timestamps in UTC with the same layout.
func newLogger(w io.Writer, lvl, format string) (log.Logger, *slog.Logger) {
	var enc log.Logger
	if format == "json" {
		enc = orderedJSONLogger{w: log.NewSyncWriter(w)}
	} else {
		enc = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var filter level.Option
	var sl slog.Level
	switch lvl {
	case "debug":
		filter, sl = level.AllowDebug(), slog.LevelDebug
	case "warn":
		filter, sl = level.AllowWarn(), slog.LevelWarn
	case "error":
		filter, sl = level.AllowError(), slog.LevelError
	default:
		filter, sl = level.AllowInfo(), slog.LevelInfo
	}
	filtered := level.NewFilter(leadingKeysLogger{next: enc}, filter)
	// The toolkit's slog records carry their own level, caller and time;
	// the record's time (the first "time" key, before the attributes)
	// becomes "ts", in UTC, like the exporter's own lines.
	bridged := log.LoggerFunc(func(kv ...any) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == "time" {
				kv[i] = "ts"
				if t, ok := kv[i+1].(time.Time); ok {
					kv[i+1] = t.UTC().Format(time.RFC3339Nano)
				}
				break
			}
		}
		return filtered.Log(kv...)
	})
	logger := log.With(filtered, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	return logger, slog.New(slgokit.NewGoKitHandler(bridged, sl))
}

// leadingKeysLogger moves the first occurrence of each of logLeadingKeys to
// the front of a log line, in that order; the other pairs keep theirs.
type leadingKeysLogger struct{ next log.Logger }

func (l leadingKeysLogger) Log(kv ...any) error {
	out := make([]any, 0, len(kv))
	var moved [len(logLeadingKeys)]int // 1 + index in kv of the pair moved to the front
	for k, key := range logLeadingKeys {
		for i := 0; i+1 < len(kv); i += 2 {
			if s, ok := kv[i].(string); ok && s == key {
				out = append(out, kv[i], kv[i+1])
				moved[k] = i + 1
				break
			}
		}
	}
	for i := 0; i < len(kv); i += 2 {
		skip := false
		for _, m := range moved {
			skip = skip || m == i+1
		}
		if skip {
			continue
		}
		out = append(out, kv[i])
		if i+1 < len(kv) {
			out = append(out, kv[i+1])
		}
	}
	return l.next.Log(out...)
}

// orderedJSONLogger writes one JSON object per line with the keys in the
// order they were logged. (go-kit's JSON logger goes through a map, so its
// keys come out sorted alphabetically.) Keys and values are rendered as
// go-kit's JSON logger renders them.
type orderedJSONLogger struct{ w io.Writer }

func (l orderedJSONLogger) Log(kv ...any) error {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		var v any = log.ErrMissingValue
		if i+1 < len(kv) {
			v = kv[i+1]
		}
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(jsonKey(kv[i]))
		b.Write(key)
		b.WriteByte(':')
		val, err := json.Marshal(jsonValue(v))
		if err != nil {
			val, _ = json.Marshal(fmt.Sprintf("%+v", v))
		}
		b.Write(val)
	}
	b.WriteString("}\n")
	_, err := l.w.Write(b.Bytes())
	return err
}

// jsonKey is the string a key is written as.
func jsonKey(k any) (s string) {
	defer func() {
		if recover() != nil {
			s = "PANIC"
		}
	}()
	switch x := k.(type) {
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// jsonValue is what a value is marshalled as: errors and Stringers as their
// text (nil pointers behind them do not panic), marshallers as themselves.
func jsonValue(v any) (out any) {
	defer func() {
		if recover() != nil {
			out = "PANIC"
		}
	}()
	switch x := v.(type) {
	case json.Marshaler, encoding.TextMarshaler:
		return x
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	default:
		return x
	}
}

// requestEvent is the API client's report of one HTTP attempt. (The one
// name to change if the event type moves to another package.)
type requestEvent = hwcloud.RequestEvent

// logRequests wraps observe, the API client's observer of target, so that
// every HTTP attempt is also logged at debug level. The event carries no
// secret: the path (no host, no query) and the request ID and error text are
// already redacted by the client.
func logRequests(observe func(requestEvent), logger log.Logger, target string) func(requestEvent) {
	debug := level.Debug(logger)
	return func(e requestEvent) {
		if observe != nil {
			observe(e)
		}
		status := "error"
		if e.StatusCode > 0 {
			status = fmt.Sprint(e.StatusCode)
		}
		kv := []any{"msg", "API request", "target", target, "operation", e.Operation,
			"method", e.Method, "path", e.Path, "status", status, "request_id", e.RequestID, "latency", e.Duration.Round(time.Microsecond),
			"attempt", e.Attempt, "retried", e.Retried}
		if e.Err != nil {
			kv = append(kv, "err", e.Err)
		}
		debug.Log(kv...)
	}
}
