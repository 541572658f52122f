package sdk

import (
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// stderr is the process's real stderr: Serve later points os.Stderr at a pipe that go-plugin forwards over gRPC.
// Log lines written here reach the agent's log with their level, under the plugin's name.
var stderr = os.Stderr

var hclogger = hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: stderr, JSONFormat: true})

var logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{
	Level: slog.LevelDebug,
	// The agent parses hclog's JSON line format: @level, @message, @timestamp.
	ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			a.Key = "@timestamp"
		case slog.LevelKey:
			a.Key, a.Value = "@level", slog.StringValue(strings.ToLower(a.Value.String()))
		case slog.MessageKey:
			a.Key = "@message"
		}
		return a
	},
}))

// Logger returns the plugin's logger. Its lines appear in the agent's log with plugin=<name>, at their level.
// Never log a secret.
func Logger() *slog.Logger { return logger }
