package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/internal/redact"
	"github.com/herofleet/herofleet/rollout"
)

func newRolloutCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Follow a fleet commit through the rollout waves",
	}
	cmd.AddCommand(newRolloutStatusCommand(g))
	return cmd
}

func newRolloutStatusCommand(g *globals) *cobra.Command {
	var opts rolloutStatusOptions
	cmd := &cobra.Command{
		Use:   "status [DIR] [--prometheus URL] [--format text|json]",
		Short: "Each wave's hosts on the fleet's HEAD: which applied it, which are healthy, the bake left, what holds the next wave",
		Long: `Show how the fleet repo's HEAD (in DIR, the current directory by default) rolls out over the waves of its
fleet.yaml rollout: for each wave, whether its hosts may apply the commit or what holds them (the earlier wave
and what it lacks, exactly as the agents judge it), and for each host the commit it applied, its fleet state,
whether it is healthy, and how long until its bake is done.

It asks the Prometheus of rollout.health.prometheus (or --prometheus) the seven queries the agents ask, whatever
the number of hosts (here about every host; an agent asks about the earlier waves' hosts). No answer is not a fine
rollout: it exits 2.

Exit 0 when every host of every wave is healthy on HEAD for the bake, 1 while the rollout is under way or held,
2 if it could not run.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRolloutStatus(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

type rolloutStatusOptions struct {
	prometheus string
	format     string
}

func (o *rolloutStatusOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.prometheus, "prometheus", "", "ask the Prometheus at `URL` (default: the fleet's rollout.health.prometheus)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
}

// errRolloutUnderWay is the exit 1 of a rollout not complete yet; the table said why.
var errRolloutUnderWay = &exitError{code: exitInvalid, err: errors.New("")}

func runRolloutStatus(ctx context.Context, opts rolloutStatusOptions, _ *globals, s streams, args []string) error {
	if opts.format != "text" && opts.format != "json" {
		return &exitError{code: exitFailed, err: fmt.Errorf("--format %q: use text or json", opts.format)}
	}
	f, err := fleet.LoadRevision(dirArg(args), "HEAD")
	if err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("rollout status follows the fleet repo's HEAD: %w", err)}
	}
	url := opts.prometheus
	if url == "" {
		url = f.Meta.Rollout.Health.Prometheus
	}
	if url == "" {
		return &exitError{code: exitFailed, err: errors.New("the fleet has no rollout.health.prometheus: give --prometheus URL")}
	}
	c, err := promapi.New(url, rollout.ObserveTimeout)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, rollout.ObserveTimeout)
	defer cancel()
	obs, err := rollout.Observe(ctx, c, f.Meta.Rollout.BakeOrDefault(), f.Commit, nil)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	report := rollout.Status(f, f.Commit, redact.Text(url), obs)
	if opts.format == "json" {
		err = rollout.WriteJSON(s.out, report)
	} else {
		err = rollout.WriteText(s.out, report)
	}
	if err != nil {
		return err
	}
	if !report.Complete() {
		return errRolloutUnderWay
	}
	return nil
}
