package main

import (
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/cobra"
)

func init() {
	register(func(g *globals) *cobra.Command {
		var follow bool
		var tail int
		cmd := &cobra.Command{
			Use:   "logs BINARY",
			Short: "Print a binary's log; -f keeps following it",
			Long:  "Print the last --tail lines of BINARY's log kept by the agent; with -f, keep printing what it writes until interrupted. Needs the agent's token: logs can hold secrets.",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cl, err := g.client()
				if err != nil {
					return err
				}
				path := fmt.Sprintf("/api/v1/binaries/%s/logs?tail=%d", url.PathEscape(args[0]), tail)
				if follow {
					path += "&follow=1"
				}
				resp, err := cl.open(cmd.Context(), "GET", path)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
				if err != nil && cmd.Context().Err() == nil { // an interrupted -f is the normal end
					return &exitError{code: exitFailed, err: fmt.Errorf("logs: %w", err)}
				}
				return nil
			},
		}
		cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
		cmd.Flags().IntVarP(&tail, "tail", "n", 200, "lines to print first")
		return cmd
	})
}
