package source

import (
	"context"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// TestResolveOverSmartHTTP: branches, tags and commits resolve in a cached clone served by git http-backend on
// loopback; a moved branch is fetched again, a known commit needs no server at all.
func TestResolveOverSmartHTTP(t *testing.T) {
	srv, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	first, err := srv.Commit("books", "main", "v1", gitserver.Text(map[string]string{"service.toml": "[[binaries]]\nname = \"a\"\nkind = \"server\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Tag("books", "v1", first); err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir(), Rewrite: Rewrites{"https://forge.example/": srv.URL()}.Apply}
	url := "https://forge.example/books.git"
	ctx := context.Background()
	for _, ref := range []string{"main", "v1", first} {
		if _, h, err := c.Resolve(ctx, url, ref); err != nil || h.String() != first {
			t.Fatalf("resolve %s = %s, %v; want %s", ref, h, err, first)
		}
	}
	second, err := srv.Commit("books", "main", "v2", gitserver.Text(map[string]string{
		"service.toml":             "[[binaries]]\nname = \"a\"\nkind = \"server\"\n",
		"crates/b/service.toml":    "[[binaries]]\nname = \"b\"\nkind = \"web\"\n",
		"deep/down/x/service.toml": "ignored",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, h, _ := c.Resolve(ctx, url, "main"); h.String() != first {
		t.Fatalf("within a round the remote is listed once: got %s, want the listed %s", h, first)
	}
	c.NewRound() // the agent starts one per sync
	files, commit, err := c.ServiceFiles(ctx, url, "main")
	if err != nil || commit != second || len(files) != 2 || files[0].Path != "crates/b/service.toml" {
		t.Fatalf("after a push: %v %s %v", files, commit, err)
	}
	if _, _, err := c.Resolve(ctx, url, "nope"); err == nil || !strings.Contains(err.Error(), `no branch or tag "nope"`) {
		t.Errorf("unknown ref: %v", err)
	}
	srv.Stop()
	if _, h, err := c.Resolve(ctx, url, first); err != nil || h.String() != first {
		t.Errorf("a cached commit resolves with the server down: %v", err)
	}
	c.NewRound()
	if _, _, err := c.Resolve(ctx, url, "main"); err == nil {
		t.Error("in a new round, a branch cannot be resolved with the server down")
	}
	if _, h, err := c.Resolve(ctx, url, first); err != nil || h.String() != first {
		t.Errorf("an unknown ref and a down server never cost the clone its commits: %v", err)
	}
}

func TestRewritesLongestPrefixWins(t *testing.T) {
	r := Rewrites{"https://forge.example/": "http://a/", "https://forge.example/ops/": "http://b/"}
	for in, want := range map[string]string{
		"https://forge.example/ops/fleet.git": "http://b/fleet.git",
		"https://forge.example/x.git":         "http://a/x.git",
		"ssh://other/x.git":                   "ssh://other/x.git",
	} {
		if got := r.Apply(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
	if _, err := ParseRewrites([]string{"nope"}); err == nil {
		t.Error("a rewrite without = must be refused")
	}
}

// OnRef: a commit is on a branch when it is its tip or an ancestor, on a tag when it is the tag's commit or an
// ancestor; a commit only on another branch, or newer than the tag, is not.
func TestOnRef(t *testing.T) {
	srv, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	files := gitserver.Text(map[string]string{"README": "x"})
	var main []string
	for _, msg := range []string{"one", "two", "three"} {
		h, err := srv.Commit("books", "main", msg, files)
		if err != nil {
			t.Fatal(err)
		}
		main = append(main, h)
	}
	other, err := srv.Commit("books", "other", "elsewhere", files)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Tag("books", "v2", main[1]); err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir()}
	url := srv.RepoURL("books")
	for _, tt := range []struct {
		ref, commit string
		want        bool
	}{
		{"main", main[2], true}, {"main", main[0], true}, {"main", other, false},
		{"v2", main[1], true}, {"v2", main[0], true}, {"v2", main[2], false}, {"v2", other, false},
		{main[1], main[1], true}, {main[1], main[0], false},
		{"other", other, true}, {"other", main[2], false},
	} {
		if got, err := c.OnRef(context.Background(), url, tt.ref, tt.commit); err != nil || got != tt.want {
			t.Errorf("OnRef(%s, %.7s) = %v, %v; want %v", tt.ref, tt.commit, got, err, tt.want)
		}
	}
	if _, err := c.OnRef(context.Background(), url, "main", strings.Repeat("0", 40)); err == nil {
		t.Error("a commit not in the repo is an error")
	}
}
