package fleet

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

const (
	c1 = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
	c2 = "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
	c3 = "0123456789abcdef0123456789abcdef01234567"
)

// lockedFleet: books follows main, and tester-07 pins it to a tag; memory follows main; ext is artifact-only.
const lockedFleet = `
-- fleet.yaml --
name: t
-- roles/tester.yaml --
preinstalled: [books]
catalog: [memory, ext]
-- hosts/tester-07.yaml --
role: tester
pin: {books: v1.2}
-- apps/books.yaml --
source: {repo: https://forge.test/books.git, ref: main}
binaries: [{name: books, kind: server, path: books}]
-- apps/memory.yaml --
source: {repo: https://forge.test/memory.git}
binaries: [{name: memory, kind: server, path: memory}]
-- apps/ext.yaml --
artifact: {url: https://forge.test/ext.tar.gz, sha256: ` + sha64 + `}
binaries: [{name: ext, kind: server, path: ext}]
`

const sha64 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func goodLock() string {
	return lockHeader +
		"books main " + c1 + "\n" +
		"books v1.2 " + c2 + " https://forge.test/books-v1.2.tar.gz " + sha64 + "\n" +
		"memory main " + c3 + "\n"
}

// TestLockNeeds: every app's ref and every host pin, once each, artifact-only apps left out.
func TestLockNeeds(t *testing.T) {
	f := loadTxtar(t, lockedFleet)
	var got []string
	for _, n := range f.LockNeeds() {
		got = append(got, n.String()+" @ "+n.At)
	}
	want := []string{
		"books main @ apps/books.yaml:1:51",
		"books v1.2 @ hosts/tester-07.yaml:2:14",
		"memory main @ apps/memory.yaml:1:9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("LockNeeds:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLockResolves: with a lock each app carries its locked commit, and a locked artifact replaces the build.
func TestLockResolves(t *testing.T) {
	f := loadTxtar(t, lockedFleet+"-- fleet.lock --\n"+goodLock())
	role, err := f.ForRole("tester")
	if err != nil {
		t.Fatal(err)
	}
	books, _ := role.App("books")
	if books.Locked != c1 || books.Artifact != nil {
		t.Errorf("role: books locked %q artifact %v; want %s and none", books.Locked, books.Artifact, c1)
	}
	host, err := f.ForHost("tester-07")
	if err != nil {
		t.Fatal(err)
	}
	books, _ = host.App("books")
	if books.Locked != c2 || books.Artifact == nil || books.Artifact.URL != "https://forge.test/books-v1.2.tar.gz" {
		t.Errorf("tester-07: books locked %q artifact %+v; want %s and the v1.2 archive", books.Locked, books.Artifact, c2)
	}
	if f.Apps["books"].Artifact != nil {
		t.Error("the lock's artifact leaked into the fleet's own app")
	}
	unlocked := loadTxtar(t, lockedFleet)
	if b, _ := must(unlocked.ForRole("tester")).App("books"); b.Locked != "" {
		t.Errorf("without a lock books is locked to %q", b.Locked)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestLockErrors: a lock missing an (app, ref) or holding a malformed entry is refused at fleet.lock:LINE, with
// every problem at once and the command that fixes it.
func TestLockErrors(t *testing.T) {
	for _, tc := range []struct {
		name, lock string
		want       []string
	}{
		{"missing pin and ref", lockHeader + "books main " + c1 + "\n", []string{
			`fleet.lock: no entry for books v1.2 (named at hosts/tester-07.yaml:2:14); run herofleet lock`,
			`fleet.lock: no entry for memory main (named at apps/memory.yaml:1:9); run herofleet lock`,
		}},
		{"malformed", "books main 1a2b3c4\nbooks  v1.2 " + c2 + " ftp://x " + sha64 + "\nmemory main " + c3 + " extra\nBooks main " + c1 + "\n", []string{
			`fleet.lock: no entry for books main (named at apps/books.yaml:1:51); run herofleet lock`,
			`fleet.lock: no entry for books v1.2 (named at hosts/tester-07.yaml:2:14); run herofleet lock`,
			`fleet.lock: no entry for memory main (named at apps/memory.yaml:1:9); run herofleet lock`,
			`fleet.lock:1:12: commit "1a2b3c4" is not 40 lowercase hex digits; run herofleet lock`,
			`fleet.lock:2:54: artifact url must be an http(s) or file URL, found "ftp://x"; run herofleet lock`,
			`fleet.lock:3:1: an entry is "app ref commit" or "app ref commit artifact-url artifact-sha256", found 4 fields; run herofleet lock`,
			`fleet.lock:4:1: app "Books" does not match ` + NamePattern + `; run herofleet lock`,
		}},
		{"twice", goodLock() + "memory main " + c1 + "\n", []string{
			`fleet.lock:7:1: memory main is locked twice (first at line 6); run herofleet lock`,
		}},
		{"bad ref", goodLock() + "memory ma..in " + c1 + "\n", []string{
			`fleet.lock:7:8: ref: "ma..in" is not a valid git ref; run herofleet lock`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadDir(writeTree(t, txtar.Parse([]byte(lockedFleet+"-- fleet.lock --\n"+tc.lock))))
			var fe Errors
			if !errors.As(err, &fe) {
				t.Fatalf("want fleet.Errors, got %v", err)
			}
			if got := fe.Error(); got != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestLockCommitRef: an app whose ref is a commit locks that very commit.
func TestLockCommitRef(t *testing.T) {
	src := "-- fleet.yaml --\nname: t\n-- apps/a.yaml --\nsource: {repo: https://forge.test/a.git, ref: " + c1 +
		"}\nbinaries: [{name: a, kind: server, path: a}]\n-- fleet.lock --\na " + c1 + " " + c2 + "\n"
	_, err := LoadDir(writeTree(t, txtar.Parse([]byte(src))))
	want := "fleet.lock:1:1: a " + c1 + " locks commit " + c1 + " to another commit " + c2 + "; run herofleet lock"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestLockFormat: same lock, same bytes, whatever order the entries came in; and what is written reads back.
func TestLockFormat(t *testing.T) {
	l, err := ParseLock([]byte(goodLock()))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Format(); string(got) != goodLock() {
		t.Errorf("Format:\n%s\nwant\n%s", got, goodLock())
	}
	shuffled := &Lock{Entries: []LockEntry{l.Entries[2], l.Entries[0], l.Entries[1]}}
	if !bytes.Equal(shuffled.Format(), l.Format()) {
		t.Error("entry order changed the bytes")
	}
	if !strings.HasPrefix(string(l.Format()), "# fleet.lock: generated by herofleet lock") {
		t.Error("no generated header")
	}
}

// TestLockMoveReasons: plan and agent name a moved lock entry the same way.
func TestLockMoveReasons(t *testing.T) {
	before := loadTxtar(t, lockedFleet+"-- fleet.lock --\n"+goodLock())
	after := loadTxtar(t, lockedFleet+"-- fleet.lock --\n"+strings.Replace(goodLock(), "books main "+c1, "books main "+c3, 1))
	p := PlanTarget(before, after, Target{Role: "tester"})
	want := "books upgrade [fleet.lock: books main 1a2b3c4 -> 0123456]"
	if len(p.Changes) != 1 || changeString(p.Changes[0]) != want {
		t.Errorf("plan: %v; want %s", p.Changes, want)
	}
	// The agent: the host runs c1 (its spec from before), the fleet now wants c3.
	b, _ := must(before.ForRole("tester")).App("books")
	d := must(after.ForRole("tester"))
	decs := Decide(d, map[string]Wanted{"books": {Rev: c3, Key: "k3"}}, HostState{Running: map[string]Running{
		"books": {Spec: &b, Rev: c1, Key: "k1"},
	}})
	if len(decs) != 1 || changeString(decs[0].Change) != want {
		t.Errorf("agent: %+v; want %s", decs, want)
	}
	// An agent that restarted knows the revision it runs, not the spec: the reason is the same.
	decs = Decide(d, map[string]Wanted{"books": {Rev: c3, Key: "k3"}}, HostState{Running: map[string]Running{
		"books": {Rev: c1, Key: "k1"},
	}})
	if len(decs) != 1 || changeString(decs[0].Change) != want {
		t.Errorf("restarted agent: %+v; want %s", decs, want)
	}
}

func changeString(c Change) string {
	return c.App + " " + string(c.Action) + " [" + strings.Join(c.Reasons, "; ") + "]"
}
