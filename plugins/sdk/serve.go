package sdk

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/internal/hookpb"
)

// Plugin describes a hook plugin.
type Plugin struct {
	Name    string   // must match the executable: herofleet-plugin-<Name>
	Version string   // shown in the agent's log
	Events  []string // the events of fleet.Events this plugin handles; others are refused before Run
	// Run does the hook's work. An error fails the app's apply (except at pre-remove); Messages are logged either
	// way, and Env is added to the environment of the app's binaries.
	Run func(ctx context.Context, call plugins.Call) (*plugins.Result, error)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Check reports what is wrong with a Plugin description.
func (p Plugin) Check() error {
	if !nameRE.MatchString(p.Name) {
		return fmt.Errorf("plugin name %q does not match %s", p.Name, nameRE)
	}
	if len(p.Events) == 0 {
		return fmt.Errorf("plugin %s handles no events", p.Name)
	}
	for _, ev := range p.Events {
		if !slices.Contains(fleet.Events, ev) {
			return fmt.Errorf("plugin %s: unknown event %q (known: %v)", p.Name, ev, fleet.Events)
		}
	}
	if p.Run == nil {
		return fmt.Errorf("plugin %s has no Run function", p.Name)
	}
	return nil
}

// Serve answers the agent over go-plugin's gRPC protocol until the agent is done with the plugin. It does not
// return. Nothing may be written to stdout before Serve: the first line of stdout is the handshake.
func Serve(p Plugin) {
	if err := p.Check(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go exitWithParent(os.Getppid())
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hookpb.Handshake,
		VersionedPlugins: hookpb.VersionedPlugins(&server{p: p}),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclogger,
	})
	os.Exit(0)
}

// exitWithParent ends the plugin if the agent goes away without killing it (the runner also asks the kernel to,
// on Linux): a hook plugin never outlives its agent.
func exitWithParent(ppid int) {
	for range time.Tick(time.Second) {
		if os.Getppid() != ppid {
			os.Exit(3)
		}
	}
}
