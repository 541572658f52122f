package plugins

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// slogHCLog lets go-plugin log through the agent's slog logger. go-plugin parses the plugin's stderr (hclog JSON
// lines from the SDK, or raw text such as a panic) and logs each line here; so does its own chatter.
type slogHCLog struct {
	l    *slog.Logger
	name string
	args []any
	// plugin is set on the Named logger go-plugin uses for the plugin's own stderr; the rest is go-plugin's
	// chatter about starting and stopping, of which only warnings and errors matter at info level.
	plugin bool
}

var _ hclog.Logger = (*slogHCLog)(nil)

func newHCLog(l *slog.Logger) hclog.Logger { return &slogHCLog{l: l} }

func toSlogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *slogHCLog) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	switch {
	case !h.plugin && level == hclog.Info:
		level = hclog.Debug
	case h.plugin && level == hclog.Debug && len(args) == 0:
		// a raw stderr line (go-plugin adds a timestamp to every JSON line): what a failing plugin says, and
		// what an operator needs to see
		level = hclog.Info
	}
	all := append(append([]any{}, h.args...), fixArgs(args)...)
	h.l.Log(context.Background(), toSlogLevel(level), clean(msg, MaxEnvValueLen), all...)
}

// fixArgs drops the plugin's own timestamp, which go-plugin appends (slog stamps the line itself), and renames
// go-plugin's plugin=<path>, which would clash with the agent's plugin=<name>.
func fixArgs(args []any) []any {
	out := make([]any, 0, len(args))
	for i := 0; i < len(args); i += 2 {
		k, _ := args[i].(string)
		switch {
		case i+1 == len(args):
			out = append(out, args[i])
		case k == "timestamp":
		case k == "plugin":
			out = append(out, "path", args[i+1])
		default:
			out = append(out, args[i], args[i+1])
		}
	}
	return out
}

func (h *slogHCLog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHCLog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHCLog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHCLog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHCLog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *slogHCLog) enabled(level hclog.Level) bool {
	return h.l.Enabled(context.Background(), toSlogLevel(level))
}

func (h *slogHCLog) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *slogHCLog) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *slogHCLog) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *slogHCLog) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *slogHCLog) IsError() bool { return h.enabled(hclog.Error) }

func (h *slogHCLog) ImpliedArgs() []any { return h.args }

func (h *slogHCLog) With(args ...any) hclog.Logger {
	return &slogHCLog{l: h.l, name: h.name, args: append(append([]any{}, h.args...), args...), plugin: h.plugin}
}

func (h *slogHCLog) Name() string { return h.name }

// Named keeps the name but does not log it: the agent's logger already carries plugin=<name>. go-plugin logs the
// plugin's stderr through a Named logger.
func (h *slogHCLog) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return &slogHCLog{l: h.l, name: name, args: h.args, plugin: true}
}

func (h *slogHCLog) ResetNamed(name string) hclog.Logger {
	return &slogHCLog{l: h.l, name: name, args: h.args, plugin: true}
}

// SetLevel is a no-op: the agent's handler decides what is logged.
func (h *slogHCLog) SetLevel(hclog.Level) {}

func (h *slogHCLog) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (h *slogHCLog) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(h.l.Handler(), slog.LevelInfo)
}

func (h *slogHCLog) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineLogger{l: h.l, level: slog.LevelInfo}
}

// lineLogger logs each line written to it; it receives what a plugin writes to its os.Stdout and os.Stderr after
// the handshake (go-plugin forwards them over gRPC). Lines are cut at MaxMessageLen.
type lineLogger struct {
	l     *slog.Logger
	level slog.Level
	mu    sync.Mutex
	buf   []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := MaxMessageLen + 1 - len(w.buf)
			w.buf = append(w.buf, p[:min(room, len(p))]...)
			break
		}
		w.buf = append(w.buf, p[:min(i, MaxMessageLen+1-len(w.buf))]...)
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

// Flush logs a last line that has no newline.
func (w *lineLogger) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit()
	}
}

func (w *lineLogger) emit() {
	w.l.Log(context.Background(), w.level, clean(string(w.buf), MaxMessageLen))
	w.buf = w.buf[:0]
}
