package lab

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Row is one scenario of docs/lab.md.
type Row struct {
	Scenario string
	Done     string // what was done
	Happened string // what happened
	Figures  string
	Lost     string // what was lost ("nothing" when nothing was)
	Pass     bool
}

// Report collects the rows of one lab run.
type Report struct {
	mu     sync.Mutex
	Rows   []Row
	Setup  []string // figures of the setup: image build, boot
	Start  time.Time
	Commit string
}

// Add appends a row.
func (r *Report) Add(row Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Rows = append(r.Rows, row)
}

// Note records a figure of the setup.
func (r *Report) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Setup = append(r.Setup, fmt.Sprintf(format, args...))
}

// Markdown renders docs/lab.md.
func (r *Report) Markdown() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("# The lab: real machines, booted here\n\n")
	b.WriteString("Written by `make lab` (package lab/, TestLab): real Debian 12 machines built by mmdebstrap from Debian's\n")
	b.WriteString("packages, the release .deb installed with apt-get, booted with systemd-nspawn (systemd as PID 1), each in its\n")
	b.WriteString("own network namespace on a bridge with a ULA IPv6 address, provisioned only by the bootstrap line of its\n")
	b.WriteString("user data at first boot. One row per scenario: what was done, what happened, the figures, what was lost.\n\n")
	if r.Commit != "" {
		fmt.Fprintf(&b, "Run of %s at %s UTC.\n\n", r.Commit, r.Start.UTC().Format("2006-01-02 15:04"))
	}
	if len(r.Setup) > 0 {
		b.WriteString("## Setup\n\n")
		for _, s := range r.Setup {
			b.WriteString("- " + s + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Scenarios\n\n| scenario | what was done | what happened | figures | what was lost |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		verdict := "**ok**"
		if !row.Pass {
			verdict = "**FAILED**"
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s |\n", cell(row.Scenario), verdict, cell(row.Done), cell(row.Happened), cell(row.Figures), cell(row.Lost))
	}
	return b.Bytes()
}

// Write writes the report to path (nothing when path is empty).
func (r *Report) Write(path string) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, r.Markdown(), 0o644)
}

// cell makes text fit a table cell: one line, pipes escaped.
func cell(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "<br>")
	return strings.ReplaceAll(s, "|", `\|`)
}

// seconds renders a duration in seconds with one decimal.
func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
