package sitegen

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

func testSite(t *testing.T) Site {
	t.Helper()
	pages, files, err := ReadDir(os.DirFS("testdata/site"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if files[i].Path == "topology.svg" {
			files[i].Path = "img/topology.svg"
		}
	}
	return Site{Title: "Test site", Pages: pages, Files: files}
}

// readTree returns every file under dir, keyed by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildGolden(t *testing.T) {
	out := t.TempDir()
	if err := Build(context.Background(), testSite(t), out); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, out)
	golden := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			dst := filepath.Join(golden, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := readTree(t, golden)
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("missing output file %s", name)
		} else if !bytes.Equal(g, w) {
			t.Errorf("%s differs from golden (run go test ./sitegen -run Golden -update to accept):\n%s", name, firstDiff(g, w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected output file %s", name)
		}
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func TestBuildRewritesLinksForFileURLs(t *testing.T) {
	out := t.TempDir()
	if err := Build(context.Background(), testSite(t), out); err != nil {
		t.Fatal(err)
	}
	tree := readTree(t, out)
	for page, wants := range map[string][]string{
		"index.html": {`href="apps/books/index.html"`, `href="apps/books/index.html#binaries"`,
			`href="ops/restart/index.html"`, `src="img/topology.svg"`, `src="./_assets/site.js"`},
		"apps/books/index.html": {`href="../../index.html"`, `href="../../ops/restart/index.html#steps"`,
			`href="https://forge.ourworld.tf/lhumina_code/hero_books.git"`, `id="binaries"`,
			`<a href="#health">Health</a>`, `class="anchor"`},
		"ops/restart/index.html": {`<h1>Restart an app</h1>`, `class="chroma"`, `href="../../apps/books/index.html#health"`},
	} {
		for _, w := range wants {
			if !bytes.Contains(tree[page], []byte(w)) {
				t.Errorf("%s: missing %s", page, w)
			}
		}
	}
	if bytes.Contains(tree["_assets/style.css"], []byte("style=")) {
		t.Error("stylesheet should not carry inline styles")
	}
	for name, data := range tree {
		if strings.HasSuffix(name, ".html") && bytes.Contains(data, []byte(`style="`)) {
			t.Errorf("%s: inline style found; highlighting must use CSS classes", name)
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	site := testSite(t)
	if err := (Builder{Workers: 1}).Build(context.Background(), site, a); err != nil {
		t.Fatal(err)
	}
	// Reversed input order and more workers must not change a byte.
	rev := testSite(t)
	for i, j := 0, len(rev.Pages)-1; i < j; i, j = i+1, j-1 {
		rev.Pages[i], rev.Pages[j] = rev.Pages[j], rev.Pages[i]
	}
	if err := (Builder{Workers: 8}).Build(context.Background(), rev, b); err != nil {
		t.Fatal(err)
	}
	ta, tb := readTree(t, a), readTree(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("file count differs: %d vs %d", len(ta), len(tb))
	}
	for name, da := range ta {
		if !bytes.Equal(da, tb[name]) {
			t.Errorf("%s differs between builds", name)
		}
	}
}

func TestBuildFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pages []Page
		want  []string
	}{
		{
			name: "broken link",
			pages: []Page{
				{Path: "", Source: "runbook/index.md", Markdown: []byte("# Home\n\nsee\n[nothing](apps/nope.md) here\n")},
			},
			want: []string{`runbook/index.md:4: broken link "apps/nope.md": no page "apps/nope"`},
		},
		{
			name: "broken anchor on another page",
			pages: []Page{
				{Path: "", Markdown: []byte("# Home\n\n[a](a.md#missing)\n")},
				{Path: "a", Markdown: []byte("# A\n\n## Present\n")},
			},
			want: []string{`index.md:3: broken anchor "a.md#missing": page "a" has no heading with id "missing"`},
		},
		{
			name: "broken anchor on the same page, all problems at once",
			pages: []Page{
				{Path: "ops/x", Source: "ops/x.md", Markdown: []byte("# X\n\n## Steps\n\n[ok](#steps) [bad](#stepz)\n\n[up](../../../etc/passwd)\n")},
			},
			want: []string{
				`ops/x.md:5: broken anchor "#stepz": no heading with that id on this page`,
				`ops/x.md:7: broken link "../../../etc/passwd": leaves the site`,
			},
		},
		{
			name:  "code span rejected by the caller, reported with broken links",
			pages: []Page{{Path: "", Markdown: []byte("# Home\n\nrun `old_app` now\n\n[x](#nope)\n")}},
			want:  []string{`index.md:3: old_app was removed`, `index.md:5: broken anchor "#nope": no heading with that id on this page`},
		},
		{
			name:  "bad page path",
			pages: []Page{{Path: "../x", Markdown: []byte("x")}},
			want:  []string{`../x.md: invalid page path "../x"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := Site{Title: "t", Pages: tc.pages, CheckCode: func(code string) string {
				if code == "old_app" {
					return "old_app was removed"
				}
				return ""
			}}
			err := Build(context.Background(), site, t.TempDir())
			var be *BuildError
			if !errors.As(err, &be) {
				t.Fatalf("want a BuildError, got %v", err)
			}
			if be.Error() != strings.Join(tc.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", be.Error(), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestBuildRefusesForeignOutputDir(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Build(context.Background(), testSite(t), out); err == nil {
		t.Fatal("build into a foreign non-empty dir should fail")
	}
	if _, err := os.Stat(filepath.Join(out, "precious.txt")); err != nil {
		t.Fatal("foreign file was removed")
	}
	// A previous sitegen output is cleared: no stale pages survive.
	out2 := t.TempDir()
	if err := Build(context.Background(), testSite(t), out2); err != nil {
		t.Fatal(err)
	}
	small := Site{Title: "t", Pages: []Page{{Path: "", Markdown: []byte("# Home\n")}}}
	if err := Build(context.Background(), small, out2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out2, "apps", "books", "index.html")); !os.IsNotExist(err) {
		t.Fatal("stale page survived a rebuild")
	}
}

func TestProblemsSortByLineNumber(t *testing.T) {
	var md strings.Builder
	md.WriteString("# Home\n")
	for i := 0; i < 12; i++ {
		md.WriteString("[x](missing.md)\n\n")
	}
	err := Build(context.Background(), Site{Pages: []Page{{Path: "", Markdown: []byte(md.String())}}}, t.TempDir())
	var be *BuildError
	if !errors.As(err, &be) || len(be.Problems) != 12 {
		t.Fatalf("want 12 problems, got %v", err)
	}
	if first, last := be.Problems[0], be.Problems[11]; first.File != "index.md" || first.Line != 2 || last.Line != 24 {
		t.Fatalf("problems not in line order:\n%s", be)
	}
}

// TestIndexPagesLinkFromTheirFolder: guide/index.md is page "guide", and its relative links start in guide/, as
// they do when the markdown is read on a forge.
func TestIndexPagesLinkFromTheirFolder(t *testing.T) {
	pages, files, err := ReadDir(fstest.MapFS{
		"index.md":       {Data: []byte("# Home\n\n[guide](guide/index.md)\n")},
		"guide/index.md": {Data: []byte("# Guide\n\n[setup](setup.md#steps) and [home](../index.md)\n")},
		"guide/setup.md": {Data: []byte("# Setup\n\n## Steps\n\n[back](index.md)\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := Build(context.Background(), Site{Title: "t", Pages: pages, Files: files}, out); err != nil {
		t.Fatal(err)
	}
	tree := readTree(t, out)
	for page, want := range map[string]string{
		"index.html":             `href="guide/index.html"`,
		"guide/index.html":       `href="../guide/setup/index.html#steps"`,
		"guide/setup/index.html": `href="../../guide/index.html"`,
	} {
		if !bytes.Contains(tree[page], []byte(want)) {
			t.Errorf("%s lacks %s", page, want)
		}
	}
}
