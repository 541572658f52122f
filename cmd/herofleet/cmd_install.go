package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/herofleet/herofleet/agent"
)

func init() {
	register(func(g *globals) *cobra.Command {
		var timeout time.Duration
		var detach bool
		cmd := &cobra.Command{
			Use:   "install APP",
			Short: "Install an app of this host's catalog (with its needs) and follow it until healthy",
			Long: `Install APP from the catalog of the agent's role, together with the apps it needs, as one click in the
cockpit would. The agent remembers it across restarts. The command prints each phase (fetching, building,
starting) and exits 0 once every binary is healthy, 1 when the install failed (with the build log's tail) or the
agent refused it (not in the catalog, already installed), 2 when the agent cannot be reached.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cl, err := g.client()
				if err != nil {
					return err
				}
				var ans struct{ Job string }
				if err := cl.call(cmd.Context(), "POST", "/api/v1/apps/"+url.PathEscape(args[0])+"/install", &ans); err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "%s: install job %s\n", args[0], ans.Job)
				if detach {
					return nil
				}
				deadline := time.Now().Add(timeout)
				var last agent.Phase
				tick := time.NewTicker(500 * time.Millisecond)
				defer tick.Stop()
				for {
					var j agent.Job
					if err := cl.call(cmd.Context(), "GET", "/api/v1/jobs/"+url.PathEscape(ans.Job), &j); err != nil {
						return err
					}
					if j.Phase != last {
						fmt.Fprintf(out, "%s: %s\n", args[0], j.Phase)
						last = j.Phase
					}
					switch j.Phase {
					case agent.PhaseHealthy:
						return nil
					case agent.PhaseFailed:
						if t := strings.TrimSpace(j.LogTail); t != "" {
							fmt.Fprintf(out, "build log (tail):\n%s\n", t)
						}
						return invalid(fmt.Errorf("%s: install failed: %s", args[0], j.Error))
					}
					if time.Now().After(deadline) {
						return &exitError{code: exitFailed, err: fmt.Errorf("%s: still %s after %s; `herofleet status` follows it", args[0], j.Phase, timeout)}
					}
					select {
					case <-cmd.Context().Done():
						return cmd.Context().Err()
					case <-tick.C:
					}
				}
			},
		}
		cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "how long to follow the install")
		cmd.Flags().BoolVar(&detach, "detach", false, "return once the agent accepted the install")
		return cmd
	})
	register(func(g *globals) *cobra.Command {
		return &cobra.Command{
			Use:   "uninstall APP",
			Short: "Uninstall an app installed on click; its data is kept",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if args[0] == "" {
					return invalid(errNoArg)
				}
				cl, err := g.client()
				if err != nil {
					return err
				}
				var ans map[string]string
				if err := cl.call(cmd.Context(), "DELETE", "/api/v1/apps/"+url.PathEscape(args[0]), &ans); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", args[0], statusOf(ans))
				return nil
			},
		}
	})
}
