package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// installedTree is an app of two binaries installed from root, with its manifest.
func installedTree(t testing.TB, root string) *Installed {
	t.Helper()
	for _, b := range []string{"server", "web"} {
		p := filepath.Join(root, "bin", b)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(strings.Repeat(b, 1<<16)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	procs := []Proc{{Name: "books_server", Path: filepath.Join(root, "bin/server")}, {Name: "books_web", Path: filepath.Join(root, "bin/web")}}
	m, _, err := makeManifest(root, procs, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Installed{App: "books", BuildDir: root, Binaries: procs, Manifest: m}
}

// The cheap check sees a changed stat and hashes only then; a touch (same content) is not drift, and is not hashed
// again; the full check sees a change whose stat was put back.
func TestCheckDrift(t *testing.T) {
	root := t.TempDir()
	inst := installedTree(t, root)
	r := New(Options{})
	if d := r.CheckDrift(inst, true); len(d) != 0 {
		t.Fatalf("drift right after install: %v", d)
	}
	server := filepath.Join(root, "bin/server")
	later := time.Now().Add(time.Hour)
	os.Chtimes(server, later, later)
	if d := r.CheckDrift(inst, false); len(d) != 0 {
		t.Fatalf("a touch is drift: %v", d)
	}
	if !r.drift.known(server, func() fingerprint { fi, _ := os.Lstat(server); return fingerprintOf(fi) }()) {
		t.Fatal("a touched file with the installed content is not remembered")
	}

	fi, _ := os.Stat(server)
	f, _ := os.OpenFile(server, os.O_WRONLY, 0)
	f.WriteAt([]byte("x"), 0)
	f.Close()
	os.Chtimes(server, fi.ModTime(), fi.ModTime())
	if d := r.CheckDrift(inst, false); len(d) != 0 {
		t.Fatalf("the cheap check hashed a file whose stat is as remembered: %v", d)
	}
	d := r.CheckDrift(inst, true)
	if len(d) != 1 || d[0].Path != "bin/server" || d[0].Binaries[0] != "books_server" || d[0].Got == d[0].Want || d[0].Got == "" {
		t.Fatalf("full check: %+v", d)
	}
	if again := r.CheckDrift(inst, false); len(again) != 1 || again[0].String() != d[0].String() {
		t.Fatalf("the next cheap check forgot what the full check found: %+v", again)
	}
	s := d[0].String()
	if !strings.HasPrefix(s, "books_server: executable changed on this host since install (sha256 "+d[0].Got[:8]+"… ≠ installed "+d[0].Want[:8]+"…, modified ") {
		t.Fatalf("said %q", s)
	}
	if r := DriftReason(d, "books_web"); !r.IsZero() {
		t.Fatalf("books_web concerned: %v", r)
	}
	if r := DriftReason(d, "books_server"); r.String() != s {
		t.Fatalf("books_server's reason %q", r)
	}
}

// BenchmarkCheckDriftCheap: the cheap check of one app of two executables that did not change, as each poll makes
// it (a stat per file; the supervisor's /proc check is not part of it here).
func BenchmarkCheckDriftCheap(b *testing.B) {
	inst := installedTree(b, b.TempDir())
	r := New(Options{})
	b.ResetTimer()
	for range b.N {
		if d := r.CheckDrift(inst, false); len(d) != 0 {
			b.Fatal(d)
		}
	}
}

// BenchmarkCheckDriftFull: the full check's hashing of an app of one 32 MiB executable, unpaced (MB/s is its
// throughput; the agent paces it to drift_read_mb_per_s).
func BenchmarkCheckDriftFull(b *testing.B) {
	root := b.TempDir()
	p := filepath.Join(root, "bin", "server")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, make([]byte, 32<<20), 0o755); err != nil {
		b.Fatal(err)
	}
	procs := []Proc{{Name: "server", Path: p}}
	m, _, err := makeManifest(root, procs, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	inst := &Installed{App: "books", BuildDir: root, Binaries: procs, Manifest: m}
	r := New(Options{})
	b.SetBytes(32 << 20)
	b.ResetTimer()
	for range b.N {
		if d := r.CheckDrift(inst, true); len(d) != 0 {
			b.Fatal(d)
		}
	}
}

// The full check's reads are paced to the configured rate.
func TestCheckDriftFullIsPaced(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "bin", "server")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o755); err != nil {
		t.Fatal(err)
	}
	procs := []Proc{{Name: "server", Path: p}}
	m, _, err := makeManifest(root, procs, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Config: Config{DriftReadRate: 4 << 20}}) // 1 MiB at 4 MiB/s: at least 250 ms
	start := time.Now()
	r.CheckDrift(&Installed{App: "books", BuildDir: root, Binaries: procs, Manifest: m}, true)
	if took := time.Since(start); took < 240*time.Millisecond {
		t.Fatalf("1 MiB hashed in %s at 4 MiB/s", took)
	}
}
