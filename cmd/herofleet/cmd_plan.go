package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/fleet"
)

func newPlanCommand(g *globals) *cobra.Command {
	var opts planOptions
	cmd := &cobra.Command{
		Use:   "plan [--host H | --role R | --on-host] [--against REV] [DIR]",
		Short: "Show what a host or role runs and what a change would do to it",
		Long: `Resolve the fleet repo (the current directory by default) for a host (hosts/<H>.yaml) or a role:
the apps it runs in apply order and the catalog it may install on click. With neither flag, every role and host.

With --against REV (DIR must be a git work tree), compare with the fleet at REV and list what the change
installs, upgrades, restarts or removes on each target, with the reasons.

With --on-host, plan the host the agent at --agent runs as, from what that agent says it runs: its installed
apps and what drifted of them. The changes are what the agent decides: an app it lacks installed, one that left
removed, a drifted one healed (heal), or only said (report) when the fleet's drift is report.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json", "markdown"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

type planOptions struct {
	host, role string
	against    string // a git revision to compare with
	format     string // a key of planWriters
	onHost     bool   // from what the agent at --agent says its host runs
}

func (o *planOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.host, "host", "", "plan the host described by hosts/`H`.yaml")
	f.StringVar(&o.role, "role", "", "plan a host of role `R` that has no hosts file")
	f.StringVar(&o.against, "against", "", "compare with the fleet at git revision `REV`")
	f.StringVar(&o.format, "format", "text", "output format: text, json or markdown")
	f.BoolVar(&o.onHost, "on-host", false, "plan the agent's host (--agent) from what it runs: its installed apps and what drifted of them")
}

func runPlan(ctx context.Context, opts planOptions, g *globals, s streams, args []string) error {
	host, role, against := opts.host, opts.role, opts.against
	if host != "" && role != "" {
		return invalid(errors.New("give --host or --role, not both"))
	}
	if opts.onHost && role != "" {
		return invalid(errors.New("give --role or --on-host, not both"))
	}
	write, ok := planWriters[opts.format]
	if !ok {
		return invalid(fmt.Errorf("--format %q: use text, json or markdown", opts.format))
	}
	dir := dirArg(args)
	after, err := loadFleet(dir)
	if err != nil {
		return err
	}
	var before *fleet.Fleet
	if against != "" {
		before, err = fleet.LoadRevision(dir, against)
		var fe fleet.Errors
		if errors.As(err, &fe) {
			// The base may itself be broken; a plan against it still says what the change does.
			fmt.Fprintf(s.err, "note: the fleet at %s has %d problem(s); planning against it as read\n", against, len(fe))
		} else if err != nil {
			return err
		}
	}
	var plans []fleet.Plan
	switch {
	case opts.onHost:
		t, facts, err := hostFacts(ctx, g)
		if err != nil {
			return err
		}
		if host != "" && host != t.Host {
			return invalid(fmt.Errorf("--host %s: the agent at %s runs as host %s", host, g.agentURL, t.Host))
		}
		plans = []fleet.Plan{fleet.PlanOnHost(before, after, t, facts)}
	case host != "":
		// A host the change deletes is planned too: everything on it is removed.
		if after.Hosts[host] == nil && (before == nil || before.Hosts[host] == nil) {
			return invalid(fmt.Errorf("unknown host %q: there is no hosts/%s.yaml (use --role for hosts without one)", host, host))
		}
		plans = []fleet.Plan{fleet.PlanTarget(before, after, fleet.Target{Host: host})}
	case role != "":
		if after.Roles[role] == nil && (before == nil || before.Roles[role] == nil) {
			return invalid(fmt.Errorf("unknown role %q", role))
		}
		plans = []fleet.Plan{fleet.PlanTarget(before, after, fleet.Target{Role: role})}
	default:
		plans = fleet.PlanAll(before, after)
	}
	return write(s.out, plans, against)
}

// hostFacts asks the agent at --agent which host it runs as and what it runs there (agent.Status.OnHost).
func hostFacts(ctx context.Context, g *globals) (fleet.Target, fleet.HostFacts, error) {
	c, err := g.client()
	if err != nil {
		return fleet.Target{}, fleet.HostFacts{}, err
	}
	var st agent.Status
	if err := c.call(ctx, "GET", "/api/v1/status", &st); err != nil {
		return fleet.Target{}, fleet.HostFacts{}, err
	}
	t, facts := st.OnHost()
	return t, facts, nil
}

// noChange says that a plan's target changes in nothing: against REV, or from what its agent runs.
func noChange(against string) string {
	if against == "" {
		return "no change from what its agent runs"
	}
	return "no change against " + against
}

var planWriters = map[string]func(io.Writer, []fleet.Plan, string) error{
	"text":     writePlanText,
	"json":     writePlanJSON,
	"markdown": writePlanMarkdown,
}

func writePlanJSON(w io.Writer, plans []fleet.Plan, against string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // reasons read "main 1a2b3c4 -> 5d6e7f8", not "-\u003e"
	return enc.Encode(struct {
		Against string       `json:"against,omitempty"`
		Plans   []fleet.Plan `json:"plans"`
	}{against, plans})
}

func writePlanText(w io.Writer, plans []fleet.Plan, against string) error {
	var b strings.Builder
	for i, p := range plans {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s", p.Target)
		if p.Host != "" {
			fmt.Fprintf(&b, " (role %s, address %s)", p.Role, p.Address)
		}
		b.WriteString("\n")
		if p.Wave != "" && p.Error == "" {
			fmt.Fprintf(&b, "  wave:    %s\n", p.Wave)
		}
		if p.Error != "" {
			fmt.Fprintf(&b, "  error: %s\n", p.Error)
			continue
		}
		fmt.Fprintf(&b, "  runs:    %s\n", listOrNone(p.Apps))
		fmt.Fprintf(&b, "  catalog: %s\n", listOrNone(p.Catalog))
		if against == "" && !p.OnHost {
			continue
		}
		if p.Agent != "" {
			fmt.Fprintf(&b, "  %-8s herofleet %s (the agent replaces itself)\n", "agent", p.Agent)
		}
		if len(p.Changes) == 0 && p.Agent == "" {
			fmt.Fprintf(&b, "  %s\n", noChange(against))
		}
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "  %-8s %s: %s\n", c.Action, c.App, strings.Join(c.Reasons, "; "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writePlanMarkdown is made for a pull-request comment: the targets a change touches first, in detail.
func writePlanMarkdown(w io.Writer, plans []fleet.Plan, against string) error {
	var b strings.Builder
	if against != "" {
		changed := 0
		for _, p := range plans {
			if len(p.Changes) > 0 || p.Agent != "" {
				changed++
			}
		}
		fmt.Fprintf(&b, "## herofleet plan against `%s`\n\n", against)
		fmt.Fprintf(&b, "%d of %d targets change.\n\n", changed, len(plans))
	} else {
		b.WriteString("## herofleet plan\n\n")
	}
	for _, p := range plans {
		fmt.Fprintf(&b, "### %s\n\n", p.Target)
		if p.Error != "" {
			fmt.Fprintf(&b, "**error:** %s\n\n", p.Error)
			continue
		}
		if p.Host != "" {
			fmt.Fprintf(&b, "Role `%s`, address `%s`.\n\n", p.Role, p.Address)
		}
		fmt.Fprintf(&b, "- runs: %s\n- catalog: %s\n", codeList(p.Apps), codeList(p.Catalog))
		if p.Wave != "" {
			fmt.Fprintf(&b, "- rollout wave: %s\n", p.Wave)
		}
		b.WriteString("\n")
		if against == "" && !p.OnHost {
			continue
		}
		if p.Agent != "" {
			fmt.Fprintf(&b, "Agent: herofleet %s (the agent replaces itself).\n\n", p.Agent)
		}
		if len(p.Changes) == 0 {
			if p.Agent == "" {
				b.WriteString("No change.\n\n")
			}
			continue
		}
		b.WriteString("| action | app | why |\n|---|---|---|\n")
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "| %s | `%s` | %s |\n", c.Action, c.App, mdCell(strings.Join(c.Reasons, "; ")))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ", ")
}

func codeList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return "`" + strings.Join(l, "`, `") + "`"
}

func mdCell(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }
