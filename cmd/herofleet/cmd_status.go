package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/termtext"
)

func newStatusCommand(g *globals) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the agent's fleet commit, its apps and binaries as a table",
		Long: `Show what the agent at --agent runs: the fleet commit applied and the newest seen, the last sync and its
error, refused commits and quarantined apps, then one row per binary of every installed app and one row per app
that can be installed on click. Every row that is not fine says why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type statusOptions struct {
	json bool
}

func (o *statusOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.json, "json", false, "print the API's answers as JSON")
}

func runStatus(ctx context.Context, opts statusOptions, g *globals, s streams, _ []string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	// One call: the status answer carries the rows too, so the table comes from one snapshot.
	var ans cockpit.StatusAnswer
	if err := c.call(ctx, "GET", "/api/v1/status", &ans); err != nil {
		return err
	}
	st := ans.Status
	apps := cockpit.Apps{Host: st.Host, Role: st.Role, Fleet: st.Fleet, Rows: ans.Rows}
	if opts.json {
		return termtext.WriteJSON(s.out, map[string]any{"apps": apps, "status": st}) // shown on a terminal too
	}
	printStatus(s.out, apps, st)
	return nil
}

// printStatus writes the agent's answer as a table; every string of it is cleaned of control characters first
// (termtext.Clean): what an agent answers must not become escape sequences on the terminal.
func printStatus(w io.Writer, apps cockpit.Apps, st agent.Status) {
	c := termtext.Clean
	f := apps.Fleet
	fmt.Fprintf(w, "host %s  role %s\n", c(apps.Host), c(apps.Role))
	fmt.Fprintf(w, "fleet %s (%s)", c(orNone(fleet.ShortRev(f.Commit))), c(string(f.State)))
	if f.Head != "" && f.Head != f.Commit {
		fmt.Fprintf(w, "  newest seen %s", c(fleet.ShortRev(f.Head)))
	}
	if !f.LastSync.IsZero() {
		fmt.Fprintf(w, "  last sync %s", f.LastSync.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if f.Error != "" {
		fmt.Fprintf(w, "error: %s\n", c(f.Error))
	}
	if r := f.Rollout; r != nil && r.Waiting != "" {
		fmt.Fprintf(w, "wave %s holds %s since %s: %s\n", c(r.Wave), c(fleet.ShortRev(r.Waiting)), r.Since.UTC().Format(time.RFC3339), c(r.Reason))
	} else if r != nil {
		fmt.Fprintf(w, "wave %s\n", c(r.Wave))
	}
	if ag := st.Agent; ag != nil {
		fmt.Fprintf(w, "agent %s (%s", c(ag.Version), c(string(ag.State)))
		if !ag.Deadline.IsZero() {
			fmt.Fprintf(w, " until %s, previous %s", ag.Deadline.UTC().Format(time.RFC3339), c(ag.Previous))
		}
		fmt.Fprintln(w, ")")
		if ag.Reason != "" {
			fmt.Fprintf(w, "agent: %s\n", c(ag.Reason))
		}
	}
	for _, r := range st.Refused {
		fmt.Fprintf(w, "refused %s: %s\n", c(fleet.ShortRev(r.Commit)), c(r.Reason))
	}
	for _, q := range st.Quarantined {
		fmt.Fprintf(w, "quarantined %s at %s: %s\n", c(q.App), c(fleet.ShortRev(q.Rev)), c(q.Reason))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tBINARY\tSTATE\tPID\tRESTARTS\tSINCE\tURL\tREASON")
	for _, r := range apps.Rows {
		bin, pid, restarts, since := r.Binary, "", "", ""
		if r.Type == cockpit.RowBundle {
			bin = "(" + strings.Join(r.Binaries, " ") + ")"
			if r.Job != "" {
				bin += " job " + r.Job
			}
		}
		if r.PID != 0 {
			pid = strconv.Itoa(r.PID)
		}
		if r.Restarts != nil {
			restarts = strconv.Itoa(*r.Restarts)
		}
		if !r.Since.IsZero() {
			since = r.Since.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c(r.App), c(bin), c(string(r.State)), pid, restarts, since, c(r.URL), c(r.Reason))
	}
	tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
