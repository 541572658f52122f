package agent

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
)

// A build that prints 32 MiB without a newline: the job keeps a bounded tail, allocates little, and its lock is
// never held long enough to stall a status read.
func TestJobTailIsBoundedWithoutNewlines(t *testing.T) {
	j := &job{Job: Job{ID: "1-books", App: "books", Phase: api.PhaseBuilding}}
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	var worst time.Duration
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a status reader
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			j.snapshot()
			worst = max(worst, time.Since(start))
		}
	}()
	before := memAllocated()
	for range 1024 { // 32 MiB
		j.Write(chunk)
	}
	allocated := memAllocated() - before
	close(stop)
	<-done
	tail := j.snapshot().LogTail
	if len(tail) > jobTailBytes {
		t.Fatalf("log_tail is %d bytes, cap %d", len(tail), jobTailBytes)
	}
	if !strings.HasSuffix(tail, "xxx") {
		t.Fatalf("tail does not end with the newest output: %q", tail[max(0, len(tail)-20):])
	}
	if worst > 100*time.Millisecond {
		t.Fatalf("a status read waited %s for the job's lock", worst)
	}
	if allocated > 8<<20 {
		t.Fatalf("32 MiB of output allocated %.0f MiB", allocated/(1<<20))
	}
}

// A line-broken build keeps its last lines.
func TestJobTailKeepsLastLines(t *testing.T) {
	j := &job{}
	for i := range 200 {
		j.Write([]byte("line " + string(rune('a'+i%26)) + "\n"))
	}
	j.Write([]byte("partial"))
	lines := strings.Split(j.snapshot().LogTail, "\n")
	if len(lines) != jobLogLines || lines[len(lines)-1] != "partial" {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func memAllocated() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.TotalAlloc)
}
