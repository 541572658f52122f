package main

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newLogsCommand(g *globals) *cobra.Command {
	var opts logsOptions
	cmd := &cobra.Command{
		Use:   "logs BINARY",
		Short: "Print a binary's log; -f keeps following it",
		Long:  "Print the last --tail lines of BINARY's log kept by the agent; with -f, keep printing what it writes until interrupted. Needs the agent's token: logs can hold secrets.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type logsOptions struct {
	follow bool
	tail   int
}

func (o *logsOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVarP(&o.follow, "follow", "f", false, "keep printing new lines")
	f.IntVarP(&o.tail, "tail", "n", 200, "lines to print first")
}

// runLogs copies the agent's answer as it streams; with -f that lasts until ctx ends.
func runLogs(ctx context.Context, opts logsOptions, g *globals, s streams, args []string) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/api/v1/binaries/%s/logs?tail=%d", url.PathEscape(args[0]), opts.tail)
	if opts.follow {
		path += "&follow=1"
	}
	resp, err := cl.open(ctx, "GET", path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(s.out, resp.Body)
	if err != nil && ctx.Err() == nil { // an interrupted -f is the normal end
		return &exitError{code: exitFailed, err: fmt.Errorf("logs: %w", err)}
	}
	return nil
}
