package fleet

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// A small commit whose many entries share one blob of almost 1 MiB is refused with a clear error, and loading it
// reads a bounded amount: the total of a fleet's files is capped, not only each file.
func TestSharedBlobFleetIsBounded(t *testing.T) {
	repo, err := gitserver.InitBare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blob := "role: tester\n" + strings.Repeat("# padding padding padding padding padding padding padding padding\n", (maxFileSize-100)/66)
	files := gitserver.Files{"fleet.yaml": {Data: []byte("name: big\n")}, "roles/tester.yaml": {Data: []byte("preinstalled: []\n")}}
	for i := range 100 { // 100 MiB of YAML from one blob
		files["hosts/h"+strconv.Itoa(i)+".yaml"] = gitserver.File{Data: []byte(blob)}
	}
	rev, err := gitserver.Commit(repo, "main", "shared", files)
	if err != nil {
		t.Fatal(err)
	}
	stop := heapGrowth()
	_, err = LoadCommit(repo, plumbing.NewHash(rev))
	grown := stop()
	if err == nil || !strings.Contains(err.Error(), "at most 64 MiB") {
		t.Fatalf("err = %v", err)
	}
	if grown > 160<<20 {
		t.Fatalf("loading grew the heap by %d MiB", grown>>20)
	}
}

// heapGrowth samples the live heap until stop, which returns how far it rose above where it started.
func heapGrowth() (stop func() uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	start := m.HeapAlloc
	var peak uint64
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-quit:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(quit)
		<-done
		if peak < start {
			return 0
		}
		return peak - start
	}
}

// Many small host files sharing one blob (the same two lines) are a normal fleet and load.
func TestSharedSmallBlobsLoad(t *testing.T) {
	repo, err := gitserver.InitBare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := gitserver.Files{"fleet.yaml": {Data: []byte("name: many\n")}, "roles/tester.yaml": {Data: []byte("preinstalled: []\n")}}
	for i := range 2000 {
		files["hosts/h"+strconv.Itoa(i)+".yaml"] = gitserver.File{Data: []byte("role: tester\n")}
	}
	rev, err := gitserver.Commit(repo, "main", "many", files)
	if err != nil {
		t.Fatal(err)
	}
	f, err := LoadCommit(repo, plumbing.NewHash(rev))
	if err != nil || len(f.Hosts) != 2000 {
		t.Fatalf("%v (%d hosts)", err, len(f.Hosts))
	}
}
