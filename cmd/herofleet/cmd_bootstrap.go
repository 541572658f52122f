package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/bootstrap"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
)

func newBootstrapCommand(g *globals) *cobra.Command {
	var opts bootstrapOptions
	cmd := &cobra.Command{
		Use:   "bootstrap --fleet URL --role R [--host H] [--address A] [--root DIR]",
		Short: "Set up this VM's agent: config, token, state directories and its systemd/zinit service",
		Long: `Set up a fresh VM's agent with no manual step. bootstrap writes the agent's config
(/etc/herofleet/agent.yaml), a random bearer token (/etc/herofleet/token, kept when it exists), the state
directories (/var/lib/herofleet, /etc/herofleet/secrets) and the agent's service files for systemd
(/etc/systemd/system/herofleet-agent.service) and zinit (/etc/zinit/herofleet-agent.yaml), then starts the agent
under whichever of the two runs as PID 1.

With --address A the agent also serves its read-only listener (GET /metrics, /healthz, /api/v1/status, no token)
on A:7072 (metrics_listen), where the fleet's Prometheus (herofleet prometheus targets) and herofleet fleet status
look for it. Without --address it has none: the cockpit and its /metrics stay on this VM's loopback, and no other
VM can scrape it.

Running it again with the same flags changes nothing and says so; a changed flag rewrites the config, says what
changed and restarts the agent. With --root, everything is written under DIR (an image, a test) and the running
system is never touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBootstrap(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type bootstrapOptions struct {
	bootstrap.Options
	rewrites []string // FROM=TO, parsed into Options.Rewrite
}

func (o *bootstrapOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Fleet, "fleet", "", "the fleet repo's git `URL` (https, ssh, git, file or git@host:path)")
	f.StringVar(&o.Ref, "ref", bootstrap.DefaultRef, "the fleet repo's branch, tag or commit")
	f.StringVar(&o.Role, "role", "", "this VM's `ROLE` when the fleet has no hosts/<host>.yaml for it")
	f.StringVar(&o.Host, "host", "", "this VM's host name in the fleet (default: the machine's host name)")
	f.StringVar(&o.Address, "address", "", "how other VMs reach this one, e.g. its Mycelium address; the agent's read-only metrics listener binds it, port "+fleet.DefaultAgentPort+" (default: the host name, and no metrics listener)")
	f.StringArrayVar(&o.rewrites, "rewrite", nil, "rewrite URLs starting with FROM to start with TO (`FROM=TO`), repeatable")
	f.StringVar(&o.Root, "root", "", "write everything under `DIR` and start nothing (images, tests)")
	f.StringVar(&o.Bin, "bin", bootstrap.DefaultBin, "the herofleet binary the service runs")
}

// runBootstrap writes the agent's files and, on the running system, (re)starts the agent; bad flags exit 1.
func runBootstrap(ctx context.Context, opts bootstrapOptions, _ *globals, s streams, _ []string) error {
	o := &opts.Options
	var err error
	if o.Rewrite, err = source.ParseRewrites(opts.rewrites); err != nil {
		return invalid(err)
	}
	if err := o.Check(); err != nil {
		return invalid(err)
	}
	out := s.out
	if !o.OnRunningSystem() {
		fmt.Fprintf(out, "writing under %s (the running system is not touched)\n", o.Root)
	}
	changes, err := bootstrap.Write(o)
	printChanges(out, changes)
	if err != nil {
		return err
	}
	if !bootstrap.Changed(changes) {
		fmt.Fprintln(out, "nothing changed")
	}
	recipient, err := bootstrap.Recipient(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "recipient: %s (put it in hosts/%s.yaml as recipient, then: herofleet secrets issue / rekey)\n", recipient, o.Host)
	if o.OnRunningSystem() {
		done, err := bootstrap.Start(ctx, bootstrap.InitSystem("/proc"), o, changes, bootstrap.Exec)
		for _, d := range done {
			fmt.Fprintln(out, d)
		}
		if err != nil {
			return fmt.Errorf("start the agent: %w", err)
		}
	}
	fmt.Fprintln(out, metricsLine(o))
	fmt.Fprintf(out, "cockpit: http://%s/ on this VM (token in %s; from elsewhere: ssh -L 7070:%s root@%s)\n",
		bootstrap.Listen, filepath.Join(o.Root, bootstrap.TokenPath), bootstrap.Listen, sshTarget(o))
	return nil
}

func printChanges(out io.Writer, changes []bootstrap.Change) {
	for _, c := range changes {
		if len(c.Details) == 0 {
			fmt.Fprintf(out, "%s: %s\n", c.Action, c.Path)
			continue
		}
		fmt.Fprintf(out, "%s: %s (%s)\n", c.Action, c.Path, strings.Join(c.Details, "; "))
	}
}

// metricsLine says where the fleet's Prometheus and fleet status reach this agent, or that they cannot.
func metricsLine(o *bootstrap.Options) string {
	if ml := o.MetricsListen(); ml != "" {
		return fmt.Sprintf("metrics: http://%s/metrics, read-only, no token: the fleet's Prometheus (herofleet prometheus targets) "+
			"and herofleet fleet status scrape %s there when hosts/%s.yaml says address: %q (and no other agent:)", ml, o.Host, o.Host, o.Address)
	}
	return fmt.Sprintf("metrics: none off this VM (no --address, so no metrics_listen): the cockpit and its /metrics stay on loopback "+
		"(%s), and the fleet's Prometheus and herofleet fleet status cannot reach %s; run bootstrap again with --address to serve them on ADDRESS:%s",
		bootstrap.Listen, o.Host, fleet.DefaultAgentPort)
}

func sshTarget(o *bootstrap.Options) string {
	if o.Address != "" {
		return o.Address
	}
	return o.Host
}
