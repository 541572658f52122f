package demo

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

//go:embed template/*.tmpl
var templates embed.FS

var tmpl = template.Must(template.ParseFS(templates, "template/*.tmpl"))

// sourceTime is the time of every generated app commit: the same app gives the same commit on every run, so the
// example fleet's fleet.lock names exactly what the demo publishes (TestExampleLock checks it).
var sourceTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Forge is the URL prefix of the example fleet's app repos; the demo's agents rewrite it to the local git server.
const Forge = "https://forge.ourworld.tf/"

// fleetFiles reads every file of the fleet repo held in fsys.
func fleetFiles(fsys fs.FS) (gitserver.Files, error) {
	files, err := gitserver.ReadFiles(fsys)
	if err != nil {
		return nil, fmt.Errorf("read example fleet: %w", err)
	}
	return files, nil
}

// RepoName is where an app's source repo lives on the demo git server ("lhumina_code/hero_books").
func RepoName(repo string) (string, error) {
	rest, ok := strings.CutPrefix(repo, Forge)
	if !ok {
		return "", fmt.Errorf("app repo %s is not on %s: the demo can only stand in for that forge", repo, Forge)
	}
	return strings.TrimSuffix(rest, ".git"), nil
}

type binaryData struct{ Name, Kind string }

type appData struct {
	App, Module, Binary, Kind string
	Binaries                  []binaryData
}

// AppFiles generates an app's source repo: a Go program per binary sharing internal/app, a service.toml and a
// Makefile whose `make build` writes target/release/<binary>.
func AppFiles(a *fleet.App) (gitserver.Files, error) {
	d := appData{App: a.Name, Module: "demo.invalid/heroapp"} // one module path: internal/app compiles once for all apps
	for _, b := range a.Binaries {
		d.Binaries = append(d.Binaries, binaryData{Name: b.Name, Kind: b.Kind})
		if want := "target/release/" + b.Name; b.Path != want {
			return nil, fmt.Errorf("app %s: the demo builds %s, the fleet expects %s", a.Name, want, b.Path)
		}
	}
	if a.Build == nil || len(a.Build.Command) != 2 || a.Build.Command[0] != "make" || a.Build.Command[1] != "build" {
		return nil, fmt.Errorf("app %s: the demo's app template builds with [make, build]", a.Name)
	}
	files := gitserver.Files{}
	render := func(path, name string, data any) error {
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, name, data); err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		files[path] = gitserver.File{Data: buf.Bytes()}
		return nil
	}
	for _, f := range []struct{ path, name string }{
		{"go.mod", "go.mod.tmpl"}, {"Makefile", "Makefile.tmpl"}, {"service.toml", "service.toml.tmpl"},
		{"internal/app/app.go", "app.go.tmpl"},
	} {
		if err := render(f.path, f.name, d); err != nil {
			return nil, err
		}
	}
	for _, b := range a.Binaries {
		bd := d
		bd.Binary, bd.Kind = b.Name, b.Kind
		if err := render("cmd/"+b.Name+"/main.go", "main.go.tmpl", bd); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// publish commits the fleet repo and one source repo per app to the git server, returning the fleet repo's URL.
func publish(g *gitserver.Server, fsys fs.FS, f *fleet.Fleet) (string, error) {
	files, err := fleetFiles(fsys)
	if err != nil {
		return "", err
	}
	if _, err := g.Commit("ops/hero-fleet", "main", "the Hero example fleet", files); err != nil {
		return "", err
	}
	for _, name := range f.AppNames() {
		a := f.Apps[name]
		repo, err := RepoName(a.Source.Repo)
		if err != nil {
			return "", err
		}
		af, err := AppFiles(a)
		if err != nil {
			return "", err
		}
		if _, err := g.CommitAt(repo, a.Source.RefOrDefault(), "demo source of "+name, af, sourceTime); err != nil {
			return "", err
		}
	}
	if err := publishSeeds(g, f); err != nil {
		return "", err
	}
	return g.RepoURL("ops/hero-fleet"), nil
}

// publishSeeds commits a small library repo for every repo a seed-git hook clones, so the hook runs for real.
func publishSeeds(g *gitserver.Server, f *fleet.Fleet) error {
	for _, name := range f.AppNames() {
		for _, h := range f.Apps[name].Hooks {
			if h.Plugin != "seed-git" {
				continue
			}
			repos, _ := h.With["repos"].([]any)
			for _, item := range repos {
				r, _ := item.(map[string]any)
				url, _ := r["url"].(string)
				lib, _ := r["name"].(string)
				repo, err := RepoName(url)
				if err != nil {
					return fmt.Errorf("app %s: seed-git repo: %w", name, err)
				}
				files := gitserver.Text(map[string]string{
					"README.md":         "# " + lib + "\n\nA default public library of Hero Books, seeded at first start.\n",
					"book/intro.md":     "# Introduction to " + lib + "\n",
					"book/reference.md": "# " + lib + " reference\n",
				})
				if _, err := g.Commit(repo, "main", "library "+lib, files); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Publish loads the fleet in fsys and commits it and a generated source repo per app to g; it returns the fleet
// repo's URL. Agents need Forge rewritten to g.URL().
func Publish(g *gitserver.Server, fsys fs.FS) (string, error) {
	f, err := fleet.LoadFS(fsys)
	if err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	return publish(g, fsys, f)
}
