package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sourcesInMemory answers ServiceFiles from a map of "repo@ref" -> files; it stands for the git reader, whose
// own test runs against real repos on loopback.
type sourcesInMemory map[string][]ServiceFile

func (s sourcesInMemory) ServiceFiles(_ context.Context, repo, ref string) ([]ServiceFile, string, error) {
	if repo == "https://down.example/x.git" {
		return nil, "", errors.New("dial tcp: connection refused")
	}
	files, ok := s[repo+"@"+ref]
	if !ok {
		return nil, "", fmt.Errorf("%s has no branch or tag %q: %w", repo, ref, ErrNoRef)
	}
	return files, "0123456789abcdef0123", nil
}

const booksFleet = `
-- fleet.yaml --
name: t
-- apps/books.yaml --
source: {repo: https://f.example/books.git}
binaries:
  - {name: books_server, kind: server, path: s}
  - {name: books_web, kind: admin, path: w}
-- roles/tester.yaml --
preinstalled: [books]
-- hosts/t1.yaml --
role: tester
pin: {books: v1}
`

func TestCheckManifests(t *testing.T) {
	f := loadTxtar(t, booksFleet)
	main := `
category = "ui"
[[binaries]]
name = "books_server"
kind = "server"
[[binaries]]
name = "books_web"
kind = "web"
[[binaries]]
name = "books_admin"
kind = "admin"
[[binaries]]
name = "books"
kind = "cli"
[[env]]
name = "PATH_ROOT"
`
	src := sourcesInMemory{
		"https://f.example/books.git@main": {{Path: "service.toml", Data: []byte(main)}},
		"https://f.example/books.git@v1": {
			{Path: "crates/books_server/service.toml", Data: []byte("[[binaries]]\nname = \"books_server\"\nkind = \"server\"\n")},
			{Path: "crates/books_web/service.toml", Data: []byte("[[binaries]]\nname = \"books_web\"\nkind = \"admin\"\n")},
		},
	}
	err := CheckManifests(context.Background(), f, src)
	var fe Errors
	if !errors.As(err, &fe) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		"apps/books.yaml:3:3: app books: missing binaries that https://f.example/books.git@main (0123456789ab) declares: books_admin (admin, declared in service.toml); a bundle is installed whole, add them to binaries",
		"apps/books.yaml:4:29: app books: binary books_web is kind admin here but web in https://f.example/books.git@main (0123456789ab):service.toml",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}

	src["https://f.example/books.git@main"] = src["https://f.example/books.git@v1"]
	if err := CheckManifests(context.Background(), f, src); err != nil {
		t.Errorf("matching manifests (crate files) must pass: %v", err)
	}
	delete(src, "https://f.example/books.git@v1")
	if err := CheckManifests(context.Background(), f, src); !errors.As(err, &fe) || !strings.Contains(err.Error(), "cannot read its source at v1") {
		t.Errorf("the host's pin must be checked too, and a missing ref is a fleet problem: %v", err)
	}
	// A forge that does not answer is no fault of the fleet: the check could not run (validate exits 2, not 1).
	f.Apps["books"].Source.Repo = "https://down.example/x.git"
	err = CheckManifests(context.Background(), f, src)
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("a down forge: %v", err)
	}
}
