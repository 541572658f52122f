package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/fleetview"
	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/internal/redact"
)

func newFleetCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Look at the whole fleet",
	}
	cmd.AddCommand(newFleetStatusCommand(g))
	return cmd
}

func newFleetStatusCommand(g *globals) *cobra.Command {
	var opts fleetStatusOptions
	cmd := &cobra.Command{
		Use:   "status [DIR] [--prometheus URL] [--format text|json]",
		Short: "One row per host: its commit against the fleet's HEAD, state, apps, what is not fine, last sync",
		Long: `Show every host of the fleet (the fleet repo in DIR, the current directory by default) at one glance:
role, the fleet commit it applied against DIR's HEAD, its fleet state, apps running out of expected, every app
or binary that is not fine with its reason, and the age of its last sync. A host that does not answer, or whose
last sync is older than three sync periods, is stale. Problems come first.

Without --prometheus, each host's agent is asked directly (hosts/<host>.yaml agent:, default
http://<address>:7072, the agent's metrics_listen), a bounded number at once. With --prometheus, five queries
to that Prometheus, whatever the number of hosts; hosts it scrapes without a host file are shown too.

Exit 0 when every host is on HEAD and healthy, 1 otherwise (a script can wait on it), 2 if it could not run.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFleetStatus(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

type fleetStatusOptions struct {
	prometheus  string
	format      string
	timeout     time.Duration
	concurrency int
}

func (o *fleetStatusOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.prometheus, "prometheus", "", "read the fleet from the Prometheus at `URL` instead of asking each agent")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.DurationVar(&o.timeout, "timeout", 5*time.Second, "how long one agent (or one Prometheus query) may take to answer")
	f.IntVar(&o.concurrency, "concurrency", 32, "agents asked at once")
}

// errNotFine is the exit 1 of a fleet that is not all on HEAD and healthy; the table said why.
var errNotFine = &exitError{code: exitInvalid, err: errors.New("")}

func runFleetStatus(ctx context.Context, opts fleetStatusOptions, _ *globals, s streams, args []string) error {
	if opts.format != "text" && opts.format != "json" {
		return &exitError{code: exitFailed, err: fmt.Errorf("--format %q: use text or json", opts.format)}
	}
	dir := dirArg(args)
	f, err := fleet.LoadRevision(dir, "HEAD")
	if err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("fleet status compares hosts with the fleet repo's HEAD: %w", err)}
	}
	period := fleetSyncPeriod(f)
	var report fleetview.Report
	if opts.prometheus != "" {
		c, err := promapi.New(opts.prometheus, opts.timeout)
		if err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		report, err = fleetview.FromPrometheus(ctx, c, redact.Text(opts.prometheus), f, f.Commit, period)
		if err != nil {
			return &exitError{code: exitFailed, err: err}
		}
	} else {
		report = fleetview.Direct(ctx, f, f.Commit, fleetview.DirectOptions{
			Concurrency: opts.concurrency, Timeout: opts.timeout, SyncPeriod: period})
	}
	if opts.format == "json" {
		err = fleetview.WriteJSON(s.out, report)
	} else {
		err = fleetview.WriteText(s.out, report, isTerminal(s.out))
	}
	if err != nil {
		return err
	}
	if !report.OK() {
		return errNotFine
	}
	return nil
}

// isTerminal: colour only for a person at a terminal, and never with NO_COLOR set.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
