package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// sync, suspend and resume each call one endpoint of the agent and return at once (202); one constructor makes
// the three.

func newSyncCommand(g *globals) *cobra.Command {
	return newFleetRequestCommand(g, "sync", "Ask the agent to sync the fleet repo now", "Ask the agent at --agent to sync the fleet repo now, as a push webhook would. It returns at once; `herofleet status` shows the outcome.")
}

func newSuspendCommand(g *globals) *cobra.Command {
	return newFleetRequestCommand(g, "suspend", "Hold new fleet commits until resumed", "Suspend: the agent still fetches the fleet repo (status shows the newest commit) but applies no new commit and no disruptive change until `herofleet resume`; running apps keep running. The agent remembers it across restarts.")
}

func newResumeCommand(g *globals) *cobra.Command {
	return newFleetRequestCommand(g, "resume", "Let a suspended agent apply new fleet commits again (a sync starts at once)", "Resume after `herofleet suspend`; a sync starts at once.")
}

// newFleetRequestCommand makes the command NAME that POSTs /api/v1/NAME.
func newFleetRequestCommand(g *globals, name, short, long string) *cobra.Command {
	opts := syncOptions{request: name}
	return &cobra.Command{
		Use:   name,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
}

type syncOptions struct {
	request string // sync, suspend or resume: the endpoint the command calls
}

func runSync(ctx context.Context, opts syncOptions, g *globals, s streams, _ []string) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var ans map[string]string
	if err := cl.call(ctx, "POST", "/api/v1/"+opts.request, &ans); err != nil {
		return err
	}
	fmt.Fprintln(s.out, statusOf(ans))
	return nil
}
