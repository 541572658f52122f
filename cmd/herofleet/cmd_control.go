package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// start, stop and restart act on one binary; one constructor makes the three. A binary a person stops stays
// stopped (across agent restarts and upgrades) until it is started again.

func newStartCommand(g *globals) *cobra.Command {
	return newControlCommand(g, "start", "Start a binary a person stopped")
}

func newStopCommand(g *globals) *cobra.Command {
	return newControlCommand(g, "stop", "Stop a binary; it stays stopped until started again")
}

func newRestartCommand(g *globals) *cobra.Command {
	return newControlCommand(g, "restart", "Restart a binary (a stopped one is started)")
}

// newControlCommand makes the command ACTION BINARY that POSTs /api/v1/binaries/BINARY/ACTION.
func newControlCommand(g *globals, action, short string) *cobra.Command {
	opts := controlOptions{action: action}
	return &cobra.Command{
		Use:   action + " BINARY",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runControl(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
}

type controlOptions struct {
	action string // start, stop or restart
}

func runControl(ctx context.Context, opts controlOptions, g *globals, s streams, args []string) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var ans map[string]string
	if err := cl.call(ctx, "POST", "/api/v1/binaries/"+url.PathEscape(args[0])+"/"+opts.action, &ans); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s: %s\n", args[0], statusOf(ans))
	return nil
}
