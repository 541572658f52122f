package demo

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
)

// Every example app gets a repo whose service.toml lists exactly the fleet's binaries, and a Go main per binary.
func TestAppRepoPerExampleApp(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range f.AppNames() {
		a := f.Apps[name]
		if _, err := RepoName(a.Source.Repo); err != nil {
			t.Fatal(err)
		}
		files, err := AppFiles(a)
		if err != nil {
			t.Fatal(err)
		}
		var svc struct {
			Name     string
			Binaries []struct{ Name, Kind string }
		}
		if _, err := toml.Decode(string(files["service.toml"].Data), &svc); err != nil {
			t.Fatalf("%s service.toml: %v", name, err)
		}
		if len(svc.Binaries) != len(a.Binaries) {
			t.Fatalf("%s: service.toml has %d binaries, the fleet %d", name, len(svc.Binaries), len(a.Binaries))
		}
		for i, b := range a.Binaries {
			if svc.Binaries[i].Name != b.Name || svc.Binaries[i].Kind != b.Kind {
				t.Fatalf("%s: service.toml binary %d = %+v, fleet %s/%s", name, i, svc.Binaries[i], b.Name, b.Kind)
			}
			main := string(files["cmd/"+b.Name+"/main.go"].Data)
			if !strings.Contains(main, `app.Main("`+name+`", "`+b.Name+`", "`+b.Kind+`")`) {
				t.Fatalf("%s main.go:\n%s", b.Name, main)
			}
		}
	}
	if _, err := RepoName("https://github.com/x/y.git"); err == nil {
		t.Fatal("a repo outside the forge must be refused")
	}
}
