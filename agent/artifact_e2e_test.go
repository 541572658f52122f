package agent

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/artifact"
)

// artifactServer serves archives by path on loopback and counts the downloads. A path under /cut/ announces the
// whole archive but sends only half of it.
type artifactServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func newArtifactServer(t *testing.T) *artifactServer {
	s := &artifactServer{files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		data, ok := s.files[strings.TrimPrefix(r.URL.Path, "/cut")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/cut/") {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data[:len(data)/2])
			return // the server closes the connection short of Content-Length
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *artifactServer) put(path string, data []byte) string {
	s.mu.Lock()
	s.files[path] = data
	s.mu.Unlock()
	return sha256Hex(data)
}

func (s *artifactServer) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func sha256Hex(b []byte) string { sum := sha256.Sum256(b); return hex.EncodeToString(sum[:]) }

// builtTree packs what a build of an app with these binaries leaves: an executable at target/release/<binary>
// (a script that runs testapp: packing testapp itself is slow under -race), plus a VERSION file so that two
// versions differ.
func builtTree(t *testing.T, version string, binaries ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	exe := []byte("#!/bin/sh\nexec " + testapp + " \"$@\"\n")
	os.MkdirAll(filepath.Join(dir, "target", "release"), 0o755)
	for _, b := range binaries {
		if err := os.WriteFile(filepath.Join(dir, "target", "release", b), exe, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "VERSION"), []byte(version), 0o644)
	var buf bytes.Buffer
	if _, err := artifact.Pack(dir, &buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawTar writes a gzipped tar of exactly the headers given (regular files get the content "x").
func rawTar(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = 1
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte("x"))
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// An artifact app is downloaded through the URL rewrites, checked and unpacked as its revision (${rev} is the
// sha256) and cached by sha256. Every bad artifact — wrong sha256, truncated, cut short, 404, entries that leave
// the tree, a symlink out — fails the apply: the running revision keeps serving, the app is quarantined with the
// cause, nothing is left on disk; a new app that fails is not installed. A new sha256 upgrades.
func TestArtifactApps(t *testing.T) {
	h := newHarness(t)
	srv := newArtifactServer(t)
	const base = "https://artifacts.test/"
	cfg := h.config()
	cfg.Rewrite[base] = srv.URL + "/"
	newAgent := func() *Agent {
		a, err := New(cfg, testLogger(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Shutdown)
		return a
	}

	// Both apps are built once for the fleet; each binary shows ${rev} in its args. The archives' names and
	// sha256s are filled in at each commit.
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books, notes]
-- apps/books.yaml --
artifact: {url: "https://artifacts.test/{{books_archive}}", sha256: {{books_sha256}}}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --rev, "${rev}"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/notes.yaml --
artifact: {url: "https://artifacts.test/{{notes_archive}}", sha256: {{notes_sha256}}}
binaries:
  - {name: notes_server, kind: server, path: target/release/notes_server, args: [--listen, "unix://${sockets}/notes_server.sock", --rev, "${rev}"], listen: "unix://${sockets}/notes_server.sock", health: /health}
`
	good := srv.put("/books-1.tar.gz", builtTree(t, "1", "books_server", "notes_server"))
	h.commitFleet(fleet, agenttest.Vars{
		"books_archive": "books-1.tar.gz", "books_sha256": good,
		"notes_archive": "missing.tar.gz", "notes_sha256": good,
	})
	a := newAgent()
	mustSync(t, a)
	st := a.Status()
	books := appOf(st, "books")
	if books.State != api.AppInstalled || books.Rev != good {
		t.Fatalf("books: %+v", books)
	}
	if body, err := agenttest.GetUnix(h.sock("books_server"), "/"); err != nil || !strings.Contains(body, "--rev "+good) {
		t.Fatalf("books_server: ${rev} is not the sha256: %q %v", body, err)
	}
	// a new app whose artifact fails is not installed, and quarantined
	if notes := appOf(st, "notes"); notes.State == api.AppInstalled || !strings.Contains(notes.Reason, "404") {
		t.Fatalf("notes: %+v", notes)
	}
	if q := quarantineOf(st, "notes"); q == nil || !strings.Contains(q.Reason, "404") {
		t.Fatalf("notes quarantine: %+v", st.Quarantined)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "builds", "notes", good+"-artifact")); !os.IsNotExist(err) {
		t.Fatalf("a failed artifact left its tree: %v", err)
	}
	pid := books.Binaries[0].PID

	// cached by sha256: an agent that lost its state installs again without downloading
	a.Shutdown()
	os.Remove(filepath.Join(h.dir, "state.json"))
	a = newAgent()
	mustSync(t, a)
	if books := appOf(a.Status(), "books"); books.State != api.AppInstalled || srv.hitCount("/books-1.tar.gz") != 1 {
		t.Fatalf("after restart: %+v, downloads %d", books, srv.hitCount("/books-1.tar.gz"))
	}
	pid = appOf(a.Status(), "books").Binaries[0].PID

	truncated := builtTree(t, "3", "books_server")
	truncated = truncated[:len(truncated)/2]
	bad := []struct {
		name, path string
		data       []byte
		sum        string // the fleet's sha256; that of data when empty
		reason     string
	}{
		{"wrong sha256", "/books-2.tar.gz", builtTree(t, "2", "books_server"), sha256Hex([]byte("another")), "sha256 mismatch"},
		{"truncated archive", "/books-3.tar.gz", truncated, "", "unexpected EOF"},
		{"cut short in transit", "/cut/books-1.tar.gz", nil, sha256Hex([]byte("the fleet's")), "unexpected EOF"},
		{"404", "/gone.tar.gz", nil, sha256Hex([]byte("gone")), "404 Not Found"},
		{"dot-dot entry", "/dotdot.tar.gz", rawTar(t,
			&tar.Header{Name: "target/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "target/../../escaped", Typeflag: tar.TypeReg, Mode: 0o644}), "", "leaves the target directory"},
		{"symlink out", "/link.tar.gz", rawTar(t,
			&tar.Header{Name: "target/release/", Typeflag: tar.TypeDir, Mode: 0o755},
			&tar.Header{Name: "target/release/books_server", Typeflag: tar.TypeSymlink, Linkname: "../../../../../bin/sh"}),
			"", "symlink to ../../../../../bin/sh leaves the target directory"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			sum := c.sum
			if c.data != nil {
				if s := srv.put(c.path, c.data); sum == "" {
					sum = s
				}
			}
			h.commitFleet(fleet, agenttest.Vars{
				"books_archive": strings.TrimPrefix(c.path, "/"), "books_sha256": sum,
				"notes_archive": "missing.tar.gz", "notes_sha256": good,
			})
			mustSync(t, a)
			st := a.Status()
			books := appOf(st, "books")
			if books.Rev != good || books.Binaries[0].PID != pid || books.Binaries[0].State != api.BinRunning {
				t.Fatalf("the running revision was disturbed: %+v", books)
			}
			if _, err := agenttest.GetUnix(h.sock("books_server"), "/health"); err != nil {
				t.Fatalf("books_server stopped answering: %v", err)
			}
			if !strings.Contains(books.Reason, c.reason) {
				t.Fatalf("reason %q does not name %q", books.Reason, c.reason)
			}
			if q := quarantineOf(st, "books"); q == nil || q.Rev != sum || !strings.Contains(q.Reason, c.reason) {
				t.Fatalf("quarantine: %+v", st.Quarantined)
			}
			if left, _ := os.ReadDir(filepath.Join(h.dir, "builds", "books")); len(left) != 1 || left[0].Name() != good+"-artifact" {
				t.Fatalf("left in builds/books: %v", left)
			}
			if _, err := os.Stat(filepath.Join(h.dir, "builds", "escaped")); err == nil {
				t.Fatal("an entry was written outside its tree")
			}
		})
	}

	// a new sha256 is an upgrade and lifts the quarantine
	next := srv.put("/books-4.tar.gz", builtTree(t, "4", "books_server"))
	h.commitFleet(fleet, agenttest.Vars{
		"books_archive": "books-4.tar.gz", "books_sha256": next,
		"notes_archive": "missing.tar.gz", "notes_sha256": good,
	})
	mustSync(t, a)
	st = a.Status()
	if books := appOf(st, "books"); books.Rev != next || books.Binaries[0].State != api.BinRunning || quarantineOf(st, "books") != nil {
		t.Fatalf("not upgraded: %+v %+v", books, st.Quarantined)
	}
	if body, _ := agenttest.GetUnix(h.sock("books_server"), "/"); !strings.Contains(body, "--rev "+next) {
		t.Fatalf("upgrade: %q", body)
	}

	// the same archive moved to a mirror: nothing restarts, nothing is downloaded; a fixed URL lifts the new app's
	// quarantine (same sha256)
	pid = appOf(st, "books").Binaries[0].PID
	srv.put("/mirror/books-4.tar.gz", builtTree(t, "4", "books_server"))
	h.commitFleet(fleet, agenttest.Vars{
		"books_archive": "mirror/books-4.tar.gz", "books_sha256": next,
		"notes_archive": "books-1.tar.gz", "notes_sha256": good,
	})
	mustSync(t, a)
	st = a.Status()
	if books := appOf(st, "books"); books.Rev != next || books.Binaries[0].PID != pid || srv.hitCount("/mirror/books-4.tar.gz") != 0 {
		t.Fatalf("a URL-only change restarted or downloaded: %+v, %d downloads", books, srv.hitCount("/mirror/books-4.tar.gz"))
	}
	if notes := appOf(st, "notes"); notes.State != api.AppInstalled || quarantineOf(st, "notes") != nil {
		t.Fatalf("notes after its URL was fixed: %+v %+v", notes, st.Quarantined)
	}
}

func quarantineOf(st Status, app string) *Quarantine {
	for _, q := range st.Quarantined {
		if q.App == app {
			return &q
		}
	}
	return nil
}
