package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/herofleet/herofleet/internal/redact"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globals are the flags every subcommand shares.
type globals struct {
	agentURL  string // where the CLI reaches the agent
	tokenFile string // the agent's bearer token, for mutating calls
	verbose   bool
}

func (g *globals) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&g.agentURL, "agent", envOr("HEROFLEET_AGENT", "http://127.0.0.1:7070"), "the agent's API `URL`")
	f.StringVar(&g.tokenFile, "token-file", "", "file holding the agent's bearer token (default: $HEROFLEET_TOKEN)")
	f.BoolVarP(&g.verbose, "verbose", "v", false, "log debug messages")
}

// logger is the one slog logger handed down to the packages a command uses.
func (g *globals) logger() *slog.Logger {
	level := slog.LevelInfo
	if g.verbose {
		level = slog.LevelDebug
	}
	return slog.New(redact.Handler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}

// Every subcommand has one shape: newXCommand(g) wires cobra to runX(ctx, opts XOptions, g, s, args), XOptions
// holding its flags (an empty struct when it has none), g the global flags, s its streams, args its arguments.

// streams are where a command reads and writes: stdin for the commands that read it (secrets set), its answer to
// out, progress and notes to err. They are the command's own (cobra's), so a test that runs the root in-process
// reads what it printed.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

func streamsOf(cmd *cobra.Command) streams {
	return streams{in: cmd.InOrStdin(), out: cmd.OutOrStdout(), err: cmd.ErrOrStderr()}
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "herofleet",
		Short: "Run a tester fleet from one git repo",
		Long: `herofleet runs a fleet of tester VMs and an admin VM from one git repo, the fleet repo.

Each VM runs "herofleet agent", which pulls the fleet repo, installs the app bundles that belong on it and
reports status to the cockpit. "herofleet site" renders the deployment runbook from the same repo.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	g.AddFlags(root.PersistentFlags())
	// Every subcommand, in the order of the CLI's contract (help lists them sorted).
	root.AddCommand(
		newValidateCommand(g),
		newPlanCommand(g),
		newAgentCommand(g),
		newStatusCommand(g),
		newSyncCommand(g),
		newSuspendCommand(g),
		newResumeCommand(g),
		newInstallCommand(g),
		newUninstallCommand(g),
		newStartCommand(g),
		newStopCommand(g),
		newRestartCommand(g),
		newLogsCommand(g),
		newSiteCommand(g),
		newDemoCommand(g),
		newBootstrapCommand(g),
		newBuildCommand(g),
		newSchemaCommand(g),
		newVersionCommand(g),
		newLockCommand(g),
		newFleetCommand(g),
		newPrometheusCommand(g),
		newRecipientCommand(g),
		newSecretsCommand(g),
		newRolloutCommand(g),
		newSelftestCommand(g),
	)
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
