package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/supervise"
)

func newAgentStopAppsCommand(g *globals) *cobra.Command {
	var opts agentOptions
	cmd := &cobra.Command{
		Use:   "stop-apps --config FILE",
		Short: "Stop every app binary an agent left running (run it once the agent is stopped)",
		Long: `Stop every process the agent of the config left running: the app binaries (and whatever they started),
found by the agent's marker in their environment (HEROFLEET_AGENT_DIR=<dir>). Each gets SIGTERM, then
SIGKILL after the config's stop_grace. The agent leaves its binaries running when it stops, so that a
restart of the agent or a package upgrade restarts no app: this is how the apps are taken down on purpose.

Stop the agent first ("systemctl stop herofleet-agent", "zinit stop herofleet-agent"): a running agent
starts its binaries again, and the command refuses while the agent's API answers on the config's listen
address. The next agent started on the dir starts every app afresh from its recorded build. Removing the
Debian package runs this after stopping the agent's unit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAgentStopApps(cmd.Context(), opts, streamsOf(cmd))
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runAgentStopApps stops the processes the agent of the config left running; a config with problems exits 1.
func runAgentStopApps(ctx context.Context, opts agentOptions, s streams) error {
	cfg, err := agent.LoadConfig(opts.configPath)
	if err != nil {
		return invalid(err)
	}
	if cfg.Listen != "" {
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(ctx, "tcp", cfg.Listen); err == nil {
			c.Close()
			return fmt.Errorf("the agent of %s runs (its API answers on %s) and would start its binaries again: stop it first (systemctl stop herofleet-agent, or zinit stop herofleet-agent)", cfg.Dir, cfg.Listen)
		}
	}
	grace := cfg.StopGrace.Duration
	if grace <= 0 {
		grace = 10 * time.Second
	}
	pids := supervise.StopMarked(supervise.Marker(cfg.Dir), grace)
	if len(pids) == 0 {
		fmt.Fprintf(s.out, "no process of the agent of %s runs\n", cfg.Dir)
		return nil
	}
	fmt.Fprintf(s.out, "stopped %d processes of the agent of %s: %v\n", len(pids), cfg.Dir, pids)
	return nil
}
