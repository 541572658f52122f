package main

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/examples"
)

func newDemoCommand(g *globals) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--check]",
		Short: "Run the whole flow on this machine, no network: a git server, the example fleet, an admin and a tester agent",
		Long: `Run the Hero example fleet on this machine. The fleet repo and one generated source repo per app are
served by a loopback git server (https://forge.ourworld.tf/ is rewritten to it); an admin agent and a tester
agent pull, build, start and health-check every app, and the demo prints every URL. Ctrl-C stops everything.

--check converges, GETs every URL, stops everything and exits 0 (1 when anything failed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type demoOptions struct {
	check, keep bool
	pluginDirs  []string
}

func (o *demoOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.check, "check", false, "converge, GET every URL, stop, exit 0")
	f.BoolVar(&o.keep, "keep", false, "keep the demo's work directory under /tmp")
	f.StringArrayVar(&o.pluginDirs, "plugins-dir", nil, "look for the hook plugins in `DIR` first (default: beside herofleet, as make build puts them)")
}

// runDemo runs the example fleet until ctx ends or SIGINT/SIGTERM; with --check, until it is verified.
func runDemo(ctx context.Context, opts demoOptions, g *globals, s streams, _ []string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := demo.Run(ctx, demo.Options{Fleet: examples.Hero(), Check: opts.check, Keep: opts.keep, Out: s.out, Log: g.logger(), PluginDirs: opts.pluginDirs})
	if err != nil && opts.check {
		return invalid(err)
	}
	return err
}
