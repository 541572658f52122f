package fleetview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/termtext"
)

// ANSI colours: each is five bytes, so that a whole coloured line keeps the table's columns aligned.
const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	green  = "\x1b[32m"
	bold   = "\x1b[01m"
	reset  = "\x1b[0m"
)

// WriteText writes the report as a person reads it: a heading, one aligned row per host with problems first, then
// every app or binary that is not fine, and a count. colour is for a terminal only.
func WriteText(w io.Writer, r Report, colour bool) error {
	r = forTerminal(r)
	paint := func(c, s string) string {
		if !colour {
			return s
		}
		return c + s + reset
	}
	fmt.Fprintf(w, "fleet %s at HEAD %s, from %s\n\n", r.Fleet, orDash(fleet.ShortRev(r.Head)), r.Source)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, paint(bold, "HOST\tROLE\tCOMMIT\tON HEAD\tSTATE\tAPPS\tLAST SYNC\tAGENT\t"))
	counts := map[string]int{}
	for _, h := range r.Hosts {
		onHead, apps, colourOf, what := "no", fmt.Sprintf("%d/%d", h.Running, h.Expected), yellow, "behind HEAD"
		if h.OnHead {
			onHead = "yes"
		}
		switch {
		case h.Stale != "":
			colourOf, what, apps = red, "stale", "-"
		case !h.Healthy:
			colourOf, what = red, "not healthy"
		case h.OnHead:
			colourOf, what = green, "fine"
		}
		counts[what]++
		fmt.Fprintln(tw, paint(colourOf, strings.Join([]string{h.Host, orDash(h.Role), orDash(fleet.ShortRev(h.Commit)), onHead,
			orDash(h.State), apps, age(r.At, h.LastSync), orDash(h.Version), ""}, "\t")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, h := range r.Hosts {
		if h.Stale != "" {
			notes = append(notes, h.Host+"\t(agent)\t"+StateStale+"\t"+h.Stale)
		}
		for _, p := range h.Problems {
			what := p.App
			if what == "" {
				what = "(agent version)" // the host's own problem: the agent version its commit names failed there
			}
			if p.Binary != "" {
				what += "/" + p.Binary
			}
			notes = append(notes, h.Host+"\t"+what+"\t"+string(p.State)+"\t"+oneLine(p.Reason))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", paint(bold, "not fine:"))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, n := range notes {
			fmt.Fprintln(tw, "  "+n)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var parts []string
	for _, what := range []string{"fine", "behind HEAD", "not healthy", "stale"} {
		if counts[what] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[what], what))
		}
	}
	_, err := fmt.Fprintf(w, "\n%d hosts: %s\n", len(r.Hosts), strings.Join(parts, ", "))
	return err
}

// WriteJSON writes the report for machines, escaped so that it can be shown on a terminal too: encoding/json
// escapes C0 controls, and termtext.JSON the DEL, C1 and bidirectional controls it leaves raw.
func WriteJSON(w io.Writer, r Report) error { return termtext.WriteJSON(w, r) }

// forTerminal is r with every string an agent or a Prometheus label gave it cleaned of control characters: an
// agent is whatever answers at a host file's address, and its words must not become escape sequences on the
// operator's terminal.
func forTerminal(r Report) Report {
	c := termtext.Clean
	r.Fleet, r.Head, r.Source = c(r.Fleet), c(r.Head), c(r.Source)
	hosts := make([]HostRow, len(r.Hosts))
	for i, h := range r.Hosts {
		h.Host, h.Role, h.Agent, h.Commit, h.State, h.Stale = c(h.Host), c(h.Role), c(h.Agent), c(h.Commit), c(h.State), c(h.Stale)
		h.Version = c(h.Version)
		problems := make([]agent.Problem, len(h.Problems))
		for j, p := range h.Problems {
			p.App, p.Binary, p.State, p.Code, p.Reason = c(p.App), c(p.Binary), api.ProblemState(c(string(p.State))), api.ReasonCode(c(string(p.Code))), c(p.Reason)
			problems[j] = p
		}
		h.Problems = problems
		hosts[i] = h
	}
	r.Hosts = hosts
	return r
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age is how long ago t was, rounded for a glance ("12s", "4m", "3h"); "-" for never.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := max(now.Sub(t), 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// oneLine keeps a reason on its row: a build error can span lines.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
