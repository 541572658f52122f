// Command sitegen-bench renders a generated markdown corpus with sitegen (in process) and with Hugo (the `hugo`
// binary) in the same run, and prints both wall times and their ratio.
//
//	go run ./bench/sitegen -pages 2000 -runs 5
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/herofleet/herofleet/sitegen"
)

func main() {
	pages := flag.Int("pages", 2000, "pages in the corpus")
	sections := flag.Int("sections", 20, "sections the pages are spread over")
	runs := flag.Int("runs", 5, "timed runs of each generator (after one warm-up each)")
	hugo := flag.String("hugo", "hugo", "the hugo binary")
	keep := flag.Bool("keep", false, "keep the work directory")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run")
	only := flag.String("only", "", "run only sitegen or only hugo (for profiling); default both")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sitegen-bench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*pages, *sections, *runs, *hugo, *only, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "sitegen-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(pages, sections, runs int, hugo, only string, keep bool) error {
	work, err := os.MkdirTemp("", "sitegen-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work dir:", work)
	} else {
		defer os.RemoveAll(work)
	}
	siteDir, hugoDir := filepath.Join(work, "md"), filepath.Join(work, "hugo")
	if err := (corpus{pages: pages, sections: sections}).write(siteDir, hugoDir); err != nil {
		return fmt.Errorf("write corpus: %w", err)
	}
	hugoVersion, err := exec.Command(hugo, "version").Output()
	if err != nil {
		return fmt.Errorf("hugo not runnable (apt-get install -y hugo): %w", err)
	}
	fmt.Printf("corpus: %d pages in %d sections; GOMAXPROCS=%d; %s", pages, sections, runtime.GOMAXPROCS(0), hugoVersion)

	sitegenRun := func(i int) error {
		p, f, err := sitegen.ReadDir(os.DirFS(siteDir))
		if err != nil {
			return err
		}
		return sitegen.Build(context.Background(), sitegen.Site{Title: "Benchmark corpus", Pages: p, Files: f},
			filepath.Join(work, fmt.Sprintf("out-sitegen-%d", i)))
	}
	hugoRun := func(i int) error {
		out := filepath.Join(work, fmt.Sprintf("out-hugo-%d", i))
		cmd := exec.Command(hugo, "--quiet", "--source", hugoDir, "--destination", out)
		cmd.Stderr = os.Stderr
		return cmd.Run()
	}
	// Interleave the two so that machine noise hits both alike; the first run of each is a warm-up.
	var sg, hg []time.Duration
	for i := 0; i <= runs; i++ {
		var d1, d2 time.Duration
		if only != "hugo" {
			if d1, err = timed(sitegenRun, i); err != nil {
				return fmt.Errorf("sitegen: %w", err)
			}
		}
		if only != "sitegen" {
			if d2, err = timed(hugoRun, i); err != nil {
				return fmt.Errorf("hugo: %w", err)
			}
		}
		if i > 0 {
			sg, hg = append(sg, d1), append(hg, d2)
		}
	}
	ms, mh := median(sg), median(hg)
	if only != "" {
		fmt.Printf("sitegen: median %v; hugo: median %v (only %s)\n", ms.Round(time.Millisecond), mh.Round(time.Millisecond), only)
		return nil
	}
	fmt.Printf("sitegen: median %v  min %v  (%d runs)\n", ms.Round(time.Millisecond), slices.Min(sg).Round(time.Millisecond), runs)
	fmt.Printf("hugo:    median %v  min %v  (%d runs)\n", mh.Round(time.Millisecond), slices.Min(hg).Round(time.Millisecond), runs)
	fmt.Printf("ratio sitegen/hugo: %.2f (medians), %.2f (minimums)\n", float64(ms)/float64(mh),
		float64(slices.Min(sg))/float64(slices.Min(hg)))
	fmt.Printf("runs sitegen: %v\nruns hugo:    %v\n", rounded(sg), rounded(hg))
	return nil
}

func timed(f func(int) error, i int) (time.Duration, error) {
	start := time.Now()
	err := f(i)
	return time.Since(start), err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}
