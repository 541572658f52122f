package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// sync, suspend and resume each call one endpoint of the agent and return at once (202).
func init() {
	for _, c := range []struct{ name, short, long string }{
		{"sync", "Ask the agent to sync the fleet repo now", "Ask the agent at --agent to sync the fleet repo now, as a push webhook would. It returns at once; `herofleet status` shows the outcome."},
		{"suspend", "Hold new fleet commits until resumed", "Suspend: the agent still fetches the fleet repo (status shows the newest commit) but applies no new commit and no disruptive change until `herofleet resume`; running apps keep running. The agent remembers it across restarts."},
		{"resume", "Let a suspended agent apply new fleet commits again (a sync starts at once)", "Resume after `herofleet suspend`; a sync starts at once."},
	} {
		register(func(g *globals) *cobra.Command {
			return &cobra.Command{
				Use:   c.name,
				Short: c.short,
				Long:  c.long,
				Args:  cobra.NoArgs,
				RunE: func(cmd *cobra.Command, _ []string) error {
					cl, err := g.client()
					if err != nil {
						return err
					}
					var ans map[string]string
					if err := cl.call(cmd.Context(), "POST", "/api/v1/"+c.name, &ans); err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout(), statusOf(ans))
					return nil
				},
			}
		})
	}
}
