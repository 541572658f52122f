package runbook

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata/golden")

// loadTxtar loads a fleet written as a txtar file tree, with optional overrides (nil content deletes a file).
func loadTxtar(t *testing.T, name string, override map[string]string) *fleet.Fleet {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range ar.Files {
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	for n, d := range override {
		fsys[n] = &fstest.MapFile{Data: []byte(d)}
	}
	f, err := fleet.LoadFS(fsys)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return f
}

// TestGoldenPages pins what the runbook says for a small fleet: each page's markdown and the topology picture.
func TestGoldenPages(t *testing.T) {
	f := loadTxtar(t, "small.txtar", nil)
	site, err := Site(f, Options{FleetURL: "https://forge.example/ops/small-fleet.git"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sitegen.Build(context.Background(), site, t.TempDir()); err != nil {
		t.Fatalf("the generated site must build (links and anchors resolve): %v", err)
	}
	got := map[string][]byte{}
	for _, p := range site.Pages {
		name := p.Path
		if name == "" {
			name = "index"
		}
		got[name+".md"] = p.Markdown
	}
	for _, fl := range site.Files {
		got[fl.Path] = fl.Data
	}
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
	for name, data := range got {
		want, err := os.ReadFile(filepath.Join(golden, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: no golden file (run go test ./runbook -run Golden -update): %v", name, err)
			continue
		}
		if !bytes.Equal(data, want) {
			t.Errorf("%s differs from golden (run go test ./runbook -run Golden -update to accept):\n%s", name, data)
		}
	}
	var count int
	_ = filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			count++
		}
		return err
	})
	if count != len(got) {
		t.Errorf("golden has %d files, the runbook produced %d", count, len(got))
	}
}

func TestTemplateHelperErrors(t *testing.T) {
	for _, tc := range []struct {
		name, page, want string
	}{
		{"unknown app", "# Notes\n\nsee\n{{ app \"engin\" }}\n", `runbook/notes.md:4: unknown app "engin" (known: engine, extra, store, ui)`},
		{"unknown binary", "# Notes\n\n{{ binary \"ui_server\" }}\n", `runbook/notes.md:3: unknown binary "ui_server" (known: engine_server, extra_web, store_server, ui_admin, ui_web)`},
		{"unknown role", "# Notes\n\n\n\n{{ role \"testers\" }}\n", `runbook/notes.md:5: unknown role "testers" (known: admin, tester)`},
		{"unknown host", "# Notes\n{{ host \"tester-02\" }}\n", `runbook/notes.md:2: unknown host "tester-02" (known: admin-1, tester-01)`},
		{"unknown helper", "# Notes\n\n{{ aap \"ui\" }}\n", `runbook/notes.md:3: function "aap" not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := loadTxtar(t, "small.txtar", map[string]string{"runbook/notes.md": tc.page})
			_, err := Site(f, Options{})
			var be *sitegen.BuildError
			if !errors.As(err, &be) {
				t.Fatalf("want a BuildError, got %v", err)
			}
			if got := be.Error(); got != tc.want {
				t.Fatalf("error:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestRunbookLinkToMissingAnchorFails(t *testing.T) {
	f := loadTxtar(t, "small.txtar", map[string]string{"runbook/notes.md": "# Notes\n\nsee [the UI](../apps/ui.md#nothing-here)\n"})
	site, err := Site(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = sitegen.Build(context.Background(), site, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `runbook/notes.md:3: broken anchor "../apps/ui.md#nothing-here"`) {
		t.Fatalf("want a broken anchor at runbook/notes.md:3, got %v", err)
	}
}

// TestSiteIsDeterministic: the same fleet gives the same pages, files and order every time.
func TestSiteIsDeterministic(t *testing.T) {
	f := loadTxtar(t, "small.txtar", nil)
	a, err := Site(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		b, err := Site(loadTxtar(t, "small.txtar", nil), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Pages) != len(b.Pages) {
			t.Fatal("page count differs")
		}
		for j := range a.Pages {
			if a.Pages[j].Path != b.Pages[j].Path || !bytes.Equal(a.Pages[j].Markdown, b.Pages[j].Markdown) {
				t.Fatalf("page %s differs between runs", a.Pages[j].Path)
			}
		}
		if !bytes.Equal(a.Files[0].Data, b.Files[0].Data) {
			t.Fatal("topology differs between runs")
		}
	}
}

// TestRunbookIndexLinksFromItsFolder: runbook/index.md becomes the page "runbook" and links like its siblings.
func TestRunbookIndexLinksFromItsFolder(t *testing.T) {
	f := loadTxtar(t, "small.txtar", map[string]string{
		"runbook/index.md": "# Runbook\n\nSee [on call](oncall.md) and [the UI](../apps/ui.md#ui-web).\n",
	})
	site, err := Site(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := sitegen.Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "runbook", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="../runbook/oncall/index.html"`, `href="../apps/ui/index.html#ui-web"`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("runbook/index.html lacks %s", want)
		}
	}
}

// TestRunbookPageNamesItsSection: a runbook page whose front matter names a section is listed there, the others
// under "Runbook"; each page lists only its own section's pages.
func TestRunbookPageNamesItsSection(t *testing.T) {
	f := loadTxtar(t, "small.txtar", map[string]string{
		"runbook/pager.md": "---\nsection: On call\n---\n# Pager\n\nWho carries it.\n",
	})
	site, err := Site(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := sitegen.Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
	pager, err := os.ReadFile(filepath.Join(out, "runbook", "pager", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<div class="nav-title">On call</div>`, `aria-current="page">Pager</a>`,
		`<a class="nav-title" href="../../runbook/oncall/index.html">Runbook</a>`} {
		if !bytes.Contains(pager, []byte(want)) {
			t.Errorf("runbook/pager lacks %s", want)
		}
	}
	if bytes.Contains(pager, []byte(`>On call</a></li>`)) {
		t.Error("runbook/pager lists the pages of the Runbook section")
	}
}

// The runbook names each host's secrets and the hooks that read them, and never carries a ciphertext or a value.
func TestSecretsNamesOnly(t *testing.T) {
	f := loadTxtar(t, "small.txtar", nil)
	site, err := Site(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var hosts string
	for _, p := range site.Pages {
		if strings.Contains(string(p.Markdown), "AGE ENCRYPTED") || strings.Contains(string(p.Markdown), "YWdl") {
			t.Errorf("page %s carries a secret's ciphertext", p.Path)
		}
		if p.Path == "hosts" {
			hosts = string(p.Markdown)
		}
	}
	if !strings.Contains(hosts, "| `engine-token` | [Tester UI](/apps/ui.md) (`config-file`, pre-start) |") {
		t.Errorf("hosts page does not say which hook reads engine-token:\n%s", hosts)
	}
}
