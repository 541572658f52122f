package main

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// start, stop and restart act on one binary. A binary a person stops stays stopped (across agent restarts and
// upgrades) until it is started again.
func init() {
	for _, c := range []struct{ name, short string }{
		{"start", "Start a binary a person stopped"},
		{"stop", "Stop a binary; it stays stopped until started again"},
		{"restart", "Restart a binary (a stopped one is started)"},
	} {
		register(func(g *globals) *cobra.Command {
			return &cobra.Command{
				Use:   c.name + " BINARY",
				Short: c.short,
				Args:  cobra.ExactArgs(1),
				RunE: func(cmd *cobra.Command, args []string) error {
					cl, err := g.client()
					if err != nil {
						return err
					}
					var ans map[string]string
					if err := cl.call(cmd.Context(), "POST", "/api/v1/binaries/"+url.PathEscape(args[0])+"/"+c.name, &ans); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", args[0], statusOf(ans))
					return nil
				},
			}
		})
	}
}
