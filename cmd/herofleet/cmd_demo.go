package main

import (
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/examples"
)

func init() {
	register(func(g *globals) *cobra.Command {
		var check, keep bool
		var pluginDirs []string
		cmd := &cobra.Command{
			Use:   "demo [--check]",
			Short: "Run the whole flow on this machine, no network: a git server, the example fleet, an admin and a tester agent",
			Long: `Run the Hero example fleet on this machine. The fleet repo and one generated source repo per app are
served by a loopback git server (https://forge.ourworld.tf/ is rewritten to it); an admin agent and a tester
agent pull, build, start and health-check every app, and the demo prints every URL. Ctrl-C stops everything.

--check converges, GETs every URL, stops everything and exits 0 (1 when anything failed).`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
				defer stop()
				err := demo.Run(ctx, demo.Options{Fleet: examples.Hero(), Check: check, Keep: keep, Out: cmd.OutOrStdout(), Log: g.logger(), PluginDirs: pluginDirs})
				if err != nil && check {
					return invalid(err)
				}
				return err
			},
		}
		cmd.Flags().BoolVar(&check, "check", false, "converge, GET every URL, stop, exit 0")
		cmd.Flags().BoolVar(&keep, "keep", false, "keep the demo's work directory under /tmp")
		cmd.Flags().StringArrayVar(&pluginDirs, "plugins-dir", nil, "look for the hook plugins in `DIR` first (default: beside herofleet, as make build puts them)")
		return cmd
	})
}
