package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

func newUninstallCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall APP",
		Short: "Uninstall an app installed on click; its data is kept",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUninstall(cmd.Context(), uninstallOptions{}, g, streamsOf(cmd), args)
		},
	}
}

// uninstallOptions: uninstall has no flags of its own.
type uninstallOptions struct{}

func runUninstall(ctx context.Context, _ uninstallOptions, g *globals, s streams, args []string) error {
	if args[0] == "" {
		return invalid(errNoArg)
	}
	cl, err := g.client()
	if err != nil {
		return err
	}
	var ans map[string]string
	if err := cl.call(ctx, "DELETE", "/api/v1/apps/"+url.PathEscape(args[0]), &ans); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s: %s\n", args[0], statusOf(ans))
	return nil
}
