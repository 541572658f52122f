package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/fleetview"
)

func newPrometheusCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prometheus",
		Short: "Write what the admin VM's Prometheus needs to watch the fleet: config, targets, rules",
		Long: `Write the files of the Prometheus that watches the fleet (Debian's prometheus on the admin VM):

  herofleet prometheus config [DIR]   > /etc/prometheus/prometheus.yml
  herofleet prometheus targets [DIR]  > /etc/prometheus/herofleet-targets.json   (again whenever hosts change)
  herofleet prometheus rules          > /etc/prometheus/herofleet.rules.yml

Each host of the fleet's host files is scraped at its agent URL (hosts/<host>.yaml agent:, default
http://<address>:7072: the agent's metrics_listen), with the host's name as the instance label.`,
	}
	cmd.AddCommand(newPrometheusConfigCommand(g), newPrometheusTargetsCommand(g), newPrometheusRulesCommand(g))
	return cmd
}

func newPrometheusConfigCommand(g *globals) *cobra.Command {
	var opts prometheusConfigOptions
	cmd := &cobra.Command{
		Use:   "config [DIR]",
		Short: "Print a Prometheus configuration that scrapes every host of the fleet and loads the alerting rules",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrometheusConfig(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type prometheusConfigOptions struct {
	targetsFile, rulesFile string
	scrapeInterval         time.Duration
}

func (o *prometheusConfigOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.targetsFile, "targets-file", "/etc/prometheus/herofleet-targets.json", "where the file_sd targets are (`FILE`)")
	f.StringVar(&o.rulesFile, "rules-file", "/etc/prometheus/herofleet.rules.yml", "where the alerting rules are (`FILE`)")
	f.DurationVar(&o.scrapeInterval, "scrape-interval", 15*time.Second, "how often Prometheus scrapes each agent")
}

func runPrometheusConfig(_ context.Context, opts prometheusConfigOptions, _ *globals, s streams, args []string) error {
	if opts.scrapeInterval < time.Second || opts.scrapeInterval%time.Second != 0 {
		return invalid(fmt.Errorf("--scrape-interval %s: a whole number of seconds, at least 1s", opts.scrapeInterval))
	}
	f, err := loadFleet(dirArg(args))
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(s.out, fleetview.Config(f, fleetview.ConfigOptions{
		TargetsFile: opts.targetsFile, RulesFile: opts.rulesFile, ScrapeInterval: opts.scrapeInterval,
	}))
	return err
}

func newPrometheusTargetsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "targets [DIR]",
		Short: "Print the fleet's hosts as Prometheus file_sd targets (JSON)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrometheusTargets(cmd.Context(), prometheusTargetsOptions{}, g, streamsOf(cmd), args)
		},
	}
}

// prometheusTargetsOptions: prometheus targets has no flags of its own.
type prometheusTargetsOptions struct{}

func runPrometheusTargets(_ context.Context, _ prometheusTargetsOptions, _ *globals, s streams, args []string) error {
	f, err := loadFleet(dirArg(args))
	if err != nil {
		return err
	}
	b, err := fleetview.TargetsJSON(f)
	if err != nil {
		return err
	}
	_, err = s.out.Write(b)
	return err
}

func newPrometheusRulesCommand(g *globals) *cobra.Command {
	var opts prometheusRulesOptions
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Print the fleet's alerting rules (promtool check rules accepts them)",
		Long: `Print Prometheus alerting rules: a host not on its newest fleet commit for longer than --periods sync
periods, a refused commit, a quarantined app, a crashlooping binary, and a stale agent (not scraped, or no sync
for --periods sync periods).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrometheusRules(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type prometheusRulesOptions struct {
	syncPeriod time.Duration
	periods    int
}

func (o *prometheusRulesOptions) AddFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.syncPeriod, "sync-period", time.Minute, "the fleet's sync period (fleet.yaml sync.schedule)")
	f.IntVar(&o.periods, "periods", fleetview.StalePeriods, "sync periods a host may lag before an alert fires")
}

func runPrometheusRules(_ context.Context, opts prometheusRulesOptions, _ *globals, s streams, _ []string) error {
	if opts.syncPeriod < time.Second || opts.syncPeriod%time.Second != 0 || opts.periods < 1 {
		return invalid(fmt.Errorf("--sync-period must be whole seconds (at least 1s) and --periods at least 1"))
	}
	_, err := fmt.Fprint(s.out, fleetview.Rules(fleetview.RulesOptions{SyncPeriod: opts.syncPeriod, Periods: opts.periods}))
	return err
}

// fleetSyncPeriod is the fleet's sync period, for the staleness of its hosts.
func fleetSyncPeriod(f *fleet.Fleet) time.Duration {
	d, err := fleet.SchedulePeriod(f.Meta.Sync.Schedule, time.Now())
	if err != nil {
		d, _ = fleet.SchedulePeriod(fleet.DefaultSchedule, time.Now()) // the agents' own fallback
	}
	return d
}
