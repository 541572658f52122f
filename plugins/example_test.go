package plugins_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/herofleet/herofleet/plugins"
)

// How the agent runs a hook: one Runner for the agent's lifetime, one Call per hook, the pin from fleet.yaml.
func ExampleRunner() {
	runner := &plugins.Runner{
		Dirs:   plugins.Dirs("/usr/lib/herofleet/plugins", "/var/lib/herofleet"), // plugins_dir, dir
		Logger: slog.Default(),
	}
	pins := map[string]string{} // fleet.Meta.Plugins
	res, err := runner.Run(context.Background(), plugins.Call{
		Plugin: "seed-git", SHA256: pins["seed-git"], Event: "pre-start",
		App: "books", DataDir: "/var/lib/herofleet/data/books", Secrets: "/etc/herofleet/secrets",
		With: map[string]any{"into": "/var/lib/herofleet/data/books/libraries", "repos": []any{}},
	})
	if err != nil {
		fmt.Println(err) // an *plugins.Error: fail the app's apply (log it at pre-remove)
		return
	}
	fmt.Println(res.Messages, res.Env)
}
