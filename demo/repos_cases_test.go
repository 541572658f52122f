package demo

import (
	"slices"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
)

// Where each app repo lives on the demo's git server: only the forge the demo stands in for.
func TestRepoName(t *testing.T) {
	tests := []struct {
		repo, want string
		err        bool
	}{
		{repo: "https://forge.ourworld.tf/lhumina_code/hero_books.git", want: "lhumina_code/hero_books"},
		{repo: "https://forge.ourworld.tf/lhumina_code/hero_books", want: "lhumina_code/hero_books"},
		{repo: "https://forge.ourworld.tf/a/b/c.git", want: "a/b/c"},
		{repo: "https://github.com/x/y.git", err: true},
		{repo: "http://forge.ourworld.tf/x/y.git", err: true},
		{repo: "forge.ourworld.tf/x/y", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			got, err := RepoName(tt.repo)
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), "https://forge.ourworld.tf/") {
					t.Errorf("repoName = %q, %v; want an error naming the forge", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("repoName = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func demoApp() *fleet.App {
	return &fleet.App{Name: "notes", Build: &fleet.Build{Command: []string{"make", "build"}},
		Binaries: []fleet.Binary{{Name: "notes_server", Kind: "server", Path: "target/release/notes_server"},
			{Name: "notes_web", Kind: "web", Path: "target/release/notes_web"}}}
}

// The generated source repo of an app: its files, and the apps the demo's template cannot build.
func TestAppFiles(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *fleet.App)
		err    string   // a part of the error; "" for none
		files  []string // every file of the repo
	}{
		{name: "two binaries", change: func(*fleet.App) {},
			files: []string{"Makefile", "cmd/notes_server/main.go", "cmd/notes_web/main.go", "go.mod", "internal/app/app.go", "service.toml"}},
		{name: "a binary elsewhere than target/release", change: func(a *fleet.App) { a.Binaries[1].Path = "bin/notes_web" },
			err: "app notes: the demo builds target/release/notes_web, the fleet expects bin/notes_web"},
		{name: "no build", change: func(a *fleet.App) { a.Build = nil }, err: "builds with [make, build]"},
		{name: "another build command", change: func(a *fleet.App) { a.Build.Command = []string{"cargo", "build"} }, err: "builds with [make, build]"},
		{name: "make with another target", change: func(a *fleet.App) { a.Build.Command = []string{"make", "build", "-j4"} }, err: "builds with [make, build]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := demoApp()
			tt.change(a)
			files, err := AppFiles(a)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for p := range files {
				names = append(names, p)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.files) {
				t.Errorf("files %v, want %v", names, tt.files)
			}
			if mk := string(files["Makefile"].Data); !strings.Contains(mk, "\tgo build -trimpath") || !strings.Contains(mk, "-o target/release/ ./cmd/...") {
				t.Errorf("Makefile does not build every binary into target/release/:\n%s", mk)
			}
			if mod := string(files["go.mod"].Data); !strings.HasPrefix(mod, "module demo.invalid/heroapp\n") {
				t.Errorf("go.mod:\n%s", mod)
			}
			if svc := string(files["service.toml"].Data); !strings.Contains(svc, `name = "notes"`) || strings.Count(svc, "[[binaries]]") != 2 {
				t.Errorf("service.toml:\n%s", svc)
			}
		})
	}
}

// The libraries the example's Hero Books seeds, which the demo's check wants listed on its page; an app without
// seed-git hooks seeds none.
func TestSeededLibraries(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		app  string
		want []string
	}{
		{"books", []string{"hero_manual", "mycelium", "threefold", "ourworld"}},
		{"voicebar", nil},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			if got := seededLibraries(f, tt.app); !slices.Equal(got, tt.want) {
				t.Errorf("seededLibraries = %v, want %v", got, tt.want)
			}
		})
	}
}

// The fleet repo the demo publishes is every file of the fleet, and nothing else.
func TestFleetFiles(t *testing.T) {
	files, err := fleetFiles(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"fleet.yaml", "fleet.lock", "hosts/tester-07.yaml", "hosts/admin-1.yaml", "apps/books.yaml"} {
		if len(files[p].Data) == 0 {
			t.Errorf("%s missing or empty", p)
		}
	}
	for p := range files {
		if strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/") {
			t.Errorf("a file path %q", p)
		}
	}
}
