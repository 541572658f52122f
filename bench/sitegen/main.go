package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	pages := flag.Int("pages", 2000, "runbook pages")
	layouts := flag.String("sections", "1,20", "comma-separated section counts to run (1: one flat folder)")
	runs := flag.Int("runs", 5, "timed runs of each tool per layout (after one warm-up each)")
	herofleet := flag.String("herofleet", "herofleet", "the herofleet binary")
	hugo := flag.String("hugo", "hugo", "the hugo binary")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()
	if err := run(*pages, *layouts, *runs, *herofleet, *hugo, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "sitegen-bench:", err)
		os.Exit(1)
	}
}

func run(pages int, layouts string, runs int, herofleet, hugo string, keep bool) error {
	hugoVersion, err := exec.Command(hugo, "version").Output()
	if err != nil {
		return fmt.Errorf("hugo not runnable (apt-get install -y hugo): %w", err)
	}
	uptime, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("%s%d runs per tool and layout after a warm-up; load average at start: %s", hugoVersion, runs, uptime)
	work, err := os.MkdirTemp("", "sitegen-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work dir:", work)
	} else {
		defer os.RemoveAll(work)
	}
	for _, l := range strings.Split(layouts, ",") {
		sections, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || sections < 1 {
			return fmt.Errorf("bad section count %q", l)
		}
		dir := filepath.Join(work, fmt.Sprintf("s%d", sections))
		if err := layout(dir, corpus{pages: pages, sections: sections}, runs, herofleet, hugo); err != nil {
			return err
		}
	}
	return nil
}

// layout writes one corpus and builds it runs+1 times with each tool, interleaved so that machine noise hits both.
func layout(dir string, c corpus, runs int, herofleet, hugo string) error {
	fleetDir, hugoDir := filepath.Join(dir, "fleet"), filepath.Join(dir, "hugo")
	if err := c.write(fleetDir, hugoDir); err != nil {
		return fmt.Errorf("write corpus: %w", err)
	}
	if err := commit(fleetDir); err != nil {
		return err
	}
	var hf, hg []measure
	for i := 0; i <= runs; i++ {
		m, err := timed(dir, herofleet, "site", "build", fleetDir, "--out", filepath.Join(dir, fmt.Sprintf("out-herofleet-%d", i)))
		if err != nil {
			return fmt.Errorf("herofleet: %w", err)
		}
		n, err := timed(dir, hugo, "--quiet", "--source", hugoDir, "--destination", filepath.Join(dir, fmt.Sprintf("out-hugo-%d", i)))
		if err != nil {
			return fmt.Errorf("hugo: %w", err)
		}
		if i > 0 {
			hf, hg = append(hf, m), append(hg, n)
		}
	}
	fo, err := measureOutput(filepath.Join(dir, fmt.Sprintf("out-herofleet-%d", runs)))
	if err != nil {
		return err
	}
	ho, err := measureOutput(filepath.Join(dir, fmt.Sprintf("out-hugo-%d", runs)))
	if err != nil {
		return err
	}
	where := "one folder"
	if c.sections > 1 {
		where = fmt.Sprintf("%d sections", c.sections)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\n== %d runbook pages in %s (load average after: %s", c.pages, where, load)
	fmt.Printf("%-22s %12s %12s %8s   %s\n", "", "herofleet", "hugo", "ratio", "target")
	wf, wh := medianOf(hf, func(m measure) float64 { return m.wall.Seconds() }), medianOf(hg, func(m measure) float64 { return m.wall.Seconds() })
	rf, rh := medianOf(hf, func(m measure) float64 { return m.rssMiB }), medianOf(hg, func(m measure) float64 { return m.rssMiB })
	row := func(name, unit string, a, b float64, target string) {
		fmt.Printf("%-22s %10.2f %s %10.2f %s %8.2f   %s\n", name, a, unit, b, unit, a/b, target)
	}
	cf, ch := medianOf(hf, func(m measure) float64 { return m.cpu }), medianOf(hg, func(m measure) float64 { return m.cpu })
	row("wall (median)", "s", wf, wh, "<= 0.5")
	row("CPU user+sys (median)", "s", cf, ch, "")
	row("peak RSS (median)", "M", rf, rh, "<= 0.5")
	row("output", "M", fo.totalMiB, ho.totalMiB, "<= 2")
	row("largest page", "K", fo.maxPageKiB, ho.maxPageKiB, "herofleet <= 64 KiB")
	fmt.Printf("%-22s %12d %12d\n", "html pages", fo.pages, ho.pages)
	fmt.Printf("herofleet runs: %s\nhugo runs:      %s\n", listRuns(hf), listRuns(hg))
	return nil
}

// commit makes the fleet a git work tree with one commit, as a user's fleet repo is (the changelog reads it).
func commit(dir string) error {
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "runbook corpus"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
	}
	return nil
}

type measure struct {
	wall   time.Duration
	cpu    float64 // user + system seconds: what the build costs, less sensitive than wall time to a shared machine
	rssMiB float64
}

var (
	maxRSS  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	cpuTime = regexp.MustCompile(`(?:User|System) time \(seconds\): ([0-9.]+)`)
)

// timed runs argv as a whole process under /usr/bin/time -v and returns its wall time and peak RSS.
func timed(dir string, argv ...string) (measure, error) {
	report := filepath.Join(dir, "time.txt")
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", "-o", report}, argv...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measure{}, fmt.Errorf("%v: %w\n%s", argv, err, stderr.Bytes())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return measure{}, err
	}
	m := maxRSS.FindSubmatch(data)
	if m == nil {
		return measure{}, fmt.Errorf("no peak RSS in /usr/bin/time's report:\n%s", data)
	}
	kb, _ := strconv.Atoi(string(m[1]))
	var cpu float64
	for _, t := range cpuTime.FindAllSubmatch(data, -1) {
		s, _ := strconv.ParseFloat(string(t[1]), 64)
		cpu += s
	}
	return measure{wall: wall, cpu: cpu, rssMiB: float64(kb) / 1024}, nil
}

type output struct {
	pages      int
	totalMiB   float64
	maxPageKiB float64
}

func measureOutput(dir string) (output, error) {
	var o output
	var total, largest int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if strings.HasSuffix(p, ".html") {
			o.pages++
			largest = max(largest, info.Size())
		}
		return nil
	})
	o.totalMiB, o.maxPageKiB = float64(total)/(1<<20), float64(largest)/1024
	return o, err
}

func medianOf(ms []measure, f func(measure) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func listRuns(ms []measure) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%.2fs/%.1fcpu/%.0fM", m.wall.Seconds(), m.cpu, m.rssMiB))
	}
	return strings.Join(parts, " ")
}
