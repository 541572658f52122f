package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/agent/selfup"
	"github.com/herofleet/herofleet/internal/sdnotify"
	"github.com/herofleet/herofleet/plugins"
)

// hookRunner makes the agent's plugin hook runner: herofleet-plugin-<name> from plugins_dir, <dir>/plugins, then
// the folder of the herofleet binary; an agent that replaced itself through the fleet looks in its own release's
// plugins/ first.
func hookRunner(cfg *agent.Config, log *slog.Logger) agent.HookRunner {
	dirs := plugins.Dirs(cfg.PluginsDir, cfg.Dir)
	if own := selfup.PluginsDir(cfg.Dir); own != "" {
		dirs = append([]string{own}, dirs...)
	}
	return &plugins.Runner{Dirs: dirs, Logger: log}
}

func newAgentCommand(g *globals) *cobra.Command {
	var opts agentOptions
	cmd := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Run the agent: sync the fleet repo, install and supervise this host's apps, serve the status API",
		Long: `Run the pull agent of this VM. It polls the fleet repo on the fleet's schedule, applies every app that
belongs on this host as a whole (rolling it back when any step fails), supervises the binaries and serves
the cockpit (page at /, API under /api/v1/, /metrics, /healthz) on the config's listen address, the
Forgejo push webhook there or on webhook_listen, and, on metrics_listen, GET /metrics, /healthz and
/api/v1/status without a token (read-only, credentials redacted) for Prometheus and "herofleet fleet status".

SIGINT or SIGTERM ends the agent and leaves every app binary running, its run recorded in the agent's dir:
the next agent on that dir adopts each one still running as started, so "systemctl restart" of the agent or
a package upgrade restarts no app. To stop the apps too, stop the agent, then run "herofleet agent
stop-apps" (removing the Debian package does both; a machine's shutdown kills what is left).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAgent(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	cmd.AddCommand(newAgentStopAppsCommand(g))
	return cmd
}

type agentOptions struct {
	configPath string
}

func (o *agentOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.configPath, "config", "/etc/herofleet/agent.yaml", "the agent's config `FILE`")
}

// runAgent runs the agent of the config until SIGINT or SIGTERM; a config with problems exits 1.
func runAgent(ctx context.Context, opts agentOptions, g *globals, _ streams, _ []string) error {
	cfg, err := agent.LoadConfig(opts.configPath)
	if err != nil {
		return invalid(err)
	}
	log := g.logger()
	self := startSelf(cfg, opts.configPath, log) // may exec the version the agent's dir says is current
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serveAgentOn(ctx, cfg, log, leaveBinaries, self)
}

// What the end of a served agent does to its binaries.
const (
	stopBinaries  = false // every binary stopped: an agent inside another program (the tests)
	leaveBinaries = true  // every binary left running for the next agent (agent.Agent.LeaveBinariesRunning)
)

// serveAgent serves the API and runs the agent until ctx ends; every binary is stopped on the way out. The agent
// command leaves them running instead (serveAgentOn with leaveBinaries).
func serveAgent(ctx context.Context, cfg *agent.Config, log *slog.Logger) error {
	return serveAgentOn(ctx, cfg, log, stopBinaries)
}

// serveAgentOn serves the API and runs the agent until ctx ends, then stops every binary or, with leave, leaves
// them running; self, when given, is how the agent replaces itself through the fleet.
func serveAgentOn(ctx context.Context, cfg *agent.Config, log *slog.Logger, leave bool, self ...agent.Self) error {
	token, err := cfg.Token()
	if err != nil {
		return err
	}
	a, err := agent.New(cfg, log, hookRunner(cfg, log))
	if err != nil {
		return err
	}
	if leave {
		a.LeaveBinariesRunning()
	}
	for _, s := range self {
		a.SetSelf(s)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("agent listen: %w", err)
	}
	log.Info("agent started", "version", version, "host", cfg.Host, "role", cfg.Role, "listen", ln.Addr().String(), "dir", cfg.Dir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	api := cockpit.NewAPI(a, token)
	served := make(chan error, 1)
	go func() { served <- api.Serve(ctx, ln) }()
	if cfg.WebhookListen != "" {
		wln, err := net.Listen("tcp", cfg.WebhookListen)
		if err != nil {
			cancel()
			<-served
			return fmt.Errorf("agent webhook_listen: %w", err)
		}
		log.Info("webhook listening", "listen", wln.Addr().String())
		go func() {
			if err := api.ServeWebhook(ctx, wln); err != nil {
				log.Error("webhook server", "err", err)
			}
		}()
	}
	if cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			cancel()
			<-served
			return fmt.Errorf("agent metrics_listen: %w", err)
		}
		log.Info("metrics and status listening, read-only", "listen", mln.Addr().String())
		go func() {
			if err := api.ServeReadOnly(ctx, mln); err != nil {
				log.Error("metrics server", "err", err)
			}
		}()
	}
	_ = sdnotify.Notify("READY=1")                   // under systemd (nothing elsewhere)
	go sdnotify.Watchdog(ctx, func() { a.Status() }) // WatchdogSec: a deadlocked agent stops pinging and is restarted
	runErr := a.Run(ctx)
	cancel()
	if err := <-served; err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
