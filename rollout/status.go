package rollout

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/termtext"
)

// Report is the rollout of one commit over every wave, as `herofleet rollout status` shows it.
type Report struct {
	Fleet      string         `json:"fleet"`
	Commit     string         `json:"commit"` // the fleet's HEAD, the commit rolling out
	Bake       fleet.Duration `json:"bake"`
	Prometheus string         `json:"prometheus"`
	At         time.Time      `json:"at"`
	Waves      []WaveReport   `json:"waves"`
}

// WaveReport is one wave: may its hosts apply the commit, and where each stands.
type WaveReport struct {
	Name  string       `json:"name"`
	Hold  string       `json:"held_by,omitempty"` // why its hosts may not apply the commit yet (empty: they may)
	Hosts []HostReport `json:"hosts"`
}

// HostReport is one host of a wave.
type HostReport struct {
	Host     string         `json:"host"`
	Commit   string         `json:"commit,omitempty"` // the commit it applied, as Prometheus last saw it
	OnHead   bool           `json:"on_head"`
	State    string         `json:"state,omitempty"` // its fleet state
	Healthy  bool           `json:"healthy"`
	Done     bool           `json:"done"`               // healthy on the commit for the bake
	BakeLeft fleet.Duration `json:"bake_left,omitzero"` // healthy on the commit, baking
	Why      string         `json:"why,omitempty"`      // what it lacks to be done
	Problems []string       `json:"problems,omitempty"`
}

// Status is where the rollout of commit stands in each wave of f, from one observation.
func Status(f *fleet.Fleet, commit, prometheus string, obs Observation) Report {
	r := Report{Fleet: f.Meta.Name, Commit: commit, Bake: fleet.Duration{Duration: obs.Bake}, Prometheus: prometheus, At: time.Now().UTC()}
	for _, w := range f.Waves() {
		wr := WaveReport{Name: w.Name, Hosts: []HostReport{}}
		if v := JudgeWave(f, w.Index, commit, obs); v.Hold {
			wr.Hold = v.Reason
		}
		for _, h := range w.Hosts {
			hr := HostReport{Host: h, Done: true}
			if facts := obs.Hosts[h]; facts != nil {
				hr.Commit, hr.State, hr.Healthy, hr.Problems = facts.Commit, facts.State, facts.Healthy && facts.Scraped, facts.Problems
				hr.OnHead = facts.Commit == commit
			}
			if c := Checks([]string{h}, commit, obs); len(c) > 0 {
				hr.Done, hr.Why, hr.BakeLeft = false, c[0].Why, fleet.Duration{Duration: c[0].left}
			}
			wr.Hosts = append(wr.Hosts, hr)
		}
		r.Waves = append(r.Waves, wr)
	}
	return r
}

// Complete reports a rollout every host of every wave is done with.
func (r Report) Complete() bool {
	for _, w := range r.Waves {
		for _, h := range w.Hosts {
			if !h.Done {
				return false
			}
		}
	}
	return true
}

// WriteJSON writes the report as indented JSON, escaped so that it can be shown on a terminal too (termtext.JSON).
func WriteJSON(w io.Writer, r Report) error { return termtext.WriteJSON(w, r) }

// forTerminal is r with every string cleaned of control characters: commits, states and problems are Prometheus
// labels, which any scraped target sets, and must not become escape sequences on the operator's terminal.
func forTerminal(r Report) Report {
	c := termtext.Clean
	r.Fleet, r.Commit, r.Prometheus = c(r.Fleet), c(r.Commit), c(r.Prometheus)
	waves := make([]WaveReport, len(r.Waves))
	for i, wv := range r.Waves {
		wv.Name, wv.Hold = c(wv.Name), c(wv.Hold)
		hosts := make([]HostReport, len(wv.Hosts))
		for j, h := range wv.Hosts {
			h.Host, h.Commit, h.State, h.Why = c(h.Host), c(h.Commit), c(h.State), c(h.Why)
			problems := make([]string, len(h.Problems))
			for k, p := range h.Problems {
				problems[k] = c(p)
			}
			h.Problems = problems
			hosts[j] = h
		}
		wv.Hosts = hosts
		waves[i] = wv
	}
	r.Waves = waves
	return r
}

// WriteText writes the report for a person: each wave, whether it may apply the commit and what holds it, and a
// row per host.
func WriteText(w io.Writer, r Report) error {
	r = forTerminal(r)
	var b strings.Builder
	fmt.Fprintf(&b, "fleet %s: rolling out %s, bake %s, health from %s\n", r.Fleet, fleet.ShortCommit(r.Commit), r.Bake.Duration, r.Prometheus)
	onHead, done, total := 0, 0, 0
	for i, wv := range r.Waves {
		name := wv.Name
		if name == "" {
			name = "(all hosts)"
		}
		hosts := fmt.Sprintf("%d hosts", len(wv.Hosts))
		if len(wv.Hosts) == 1 {
			hosts = "1 host"
		}
		switch {
		case i == 0:
			fmt.Fprintf(&b, "\nwave %s (%s): applies at once\n", name, hosts)
		case wv.Hold != "":
			fmt.Fprintf(&b, "\nwave %s (%s): held by %s\n", name, hosts, wv.Hold)
		default:
			fmt.Fprintf(&b, "\nwave %s (%s): the earlier waves are done; applies\n", name, hosts)
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, h := range wv.Hosts {
			total++
			commit, head := "-", "no"
			if h.Commit != "" {
				commit = fleet.ShortCommit(h.Commit)
			}
			if h.OnHead {
				onHead++
				head = "yes"
			}
			bake := "done"
			switch {
			case h.Done:
				done++
			case h.BakeLeft.Duration > 0:
				bake = h.BakeLeft.Round(time.Second).String() + " left"
			default:
				bake = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\ton HEAD %s\t%s\thealthy %s\tbake %s\t%s\n", h.Host, commit, head, orDash(h.State),
				yesNo(h.Healthy), bake, whyText(h))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(&b, "\n%d/%d hosts on HEAD, %d done (healthy on it for the bake)\n", onHead, total, done)
	_, err := io.WriteString(w, b.String())
	return err
}

func whyText(h HostReport) string {
	if h.Done || h.BakeLeft.Duration > 0 {
		return ""
	}
	return h.Why
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
