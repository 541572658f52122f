package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
)

func newInstallCommand(g *globals) *cobra.Command {
	var opts installOptions
	cmd := &cobra.Command{
		Use:   "install APP",
		Short: "Install an app of this host's catalog (with its needs) and follow it until healthy",
		Long: `Install APP from the catalog of the agent's role, together with the apps it needs, as one click in the
cockpit would. The agent remembers it across restarts. The command prints each phase (fetching, building,
starting) and exits 0 once every binary is healthy, 1 when the install failed (with the build log's tail) or the
agent refused it (not in the catalog, already installed), 2 when the agent cannot be reached.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInstall(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type installOptions struct {
	timeout time.Duration // how long to follow the job
	detach  bool
}

func (o *installOptions) AddFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.timeout, "timeout", time.Hour, "how long to follow the install")
	f.BoolVar(&o.detach, "detach", false, "return once the agent accepted the install")
}

func runInstall(ctx context.Context, opts installOptions, g *globals, s streams, args []string) error {
	app := args[0]
	cl, err := g.client()
	if err != nil {
		return err
	}
	var ans struct{ Job string }
	if err := cl.call(ctx, "POST", "/api/v1/apps/"+url.PathEscape(app)+"/install", &ans); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s: install job %s\n", app, ans.Job)
	if opts.detach {
		return nil
	}
	return followJob(ctx, cl, app, ans.Job, opts.timeout, s.out)
}

// followJob polls the install job twice a second and prints each phase it reaches. It returns nil once the app is
// healthy, exit 1 when the install failed (after the build log's tail), exit 2 when it is still going after
// timeout, and ctx's error when ctx ends first.
func followJob(ctx context.Context, cl *agentClient, app, job string, timeout time.Duration, out io.Writer) error {
	deadline := time.Now().Add(timeout)
	var last api.Phase
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		var j agent.Job
		if err := cl.call(ctx, "GET", "/api/v1/jobs/"+url.PathEscape(job), &j); err != nil {
			return err
		}
		if j.Phase != last {
			fmt.Fprintf(out, "%s: %s\n", app, j.Phase)
			last = j.Phase
		}
		switch j.Phase {
		case api.PhaseHealthy:
			return nil
		case api.PhaseFailed:
			if t := strings.TrimSpace(j.LogTail); t != "" {
				fmt.Fprintf(out, "build log (tail):\n%s\n", t)
			}
			return invalid(fmt.Errorf("%s: install failed: %s", app, j.Error))
		}
		if time.Now().After(deadline) {
			return &exitError{code: exitFailed, err: fmt.Errorf("%s: still %s after %s; `herofleet status` follows it", app, j.Phase, timeout)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
