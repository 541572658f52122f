package faults

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herofleet/herofleet/internal/agenttest"
)

// booksWatcher samples the processes of an agent dir until stopped and keeps the first violation it sees: a
// binary of books running twice, or books' binaries running from two builds (two revisions) at once. It also
// keeps the builds books ran from, in the order it saw them.
type booksWatcher struct {
	samples atomic.Int64
	done    chan struct{}
	ended   chan struct{}
	mu      sync.Mutex
	bad     error
	ran     []string // build dirs, a new entry each time books runs from another one
}

func watchBooks(t *testing.T, dir string) *booksWatcher {
	w := &booksWatcher{done: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(w.ended)
		tick := time.NewTicker(agenttest.PollInterval)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			procs := agenttest.Processes(dir)
			if slices.ContainsFunc(procs, func(p agenttest.Process) bool { return !p.StillRunning() }) {
				continue // something started or ended while sampling: not one moment
			}
			w.samples.Add(1)
			build, err := checkBooks(procs)
			w.mu.Lock()
			if err != nil && w.bad == nil {
				w.bad = err
			}
			if build != "" && (len(w.ran) == 0 || w.ran[len(w.ran)-1] != build) {
				w.ran = append(w.ran, build)
			}
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.stop)
	return w
}

// checkBooks checks one sample and returns the build books runs from ("" when none of it runs).
func checkBooks(procs []agenttest.Process) (string, error) {
	count := map[string]int{}
	builds := map[string]bool{}
	build := ""
	for _, p := range procs {
		name := filepath.Base(p.Argv[0])
		if !slices.Contains(booksBinaries, name) {
			continue // a build
		}
		if count[name]++; count[name] > 1 {
			return "", fmt.Errorf("%s runs twice: %v", name, procs)
		}
		build = buildOf(p.Argv[0])
		builds[build] = true
		if len(builds) > 1 {
			return "", fmt.Errorf("books runs two revisions at once: %v", procs)
		}
	}
	return build, nil
}

// buildOf is the build dir of a binary's program: <build>/target/release/<name>.
func buildOf(exe string) string { return filepath.Dir(filepath.Dir(filepath.Dir(exe))) }

// builds lists the builds books ran from while watched, in order.
func (w *booksWatcher) builds() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.ran)
}

func (w *booksWatcher) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	<-w.ended
}

func (w *booksWatcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bad
}
