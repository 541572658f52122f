package gitserver_test

import (
	"context"
	"os"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/herofleet/herofleet/internal/gitserver"
)

func TestServeCommitCloneAndStop(t *testing.T) {
	s, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	first, err := s.Commit("fleet", "main", "first", gitserver.Files{
		"fleet.yaml":  {Data: []byte("name: test\n")},
		"apps/a.yaml": {Data: []byte("name: a\n")},
		"bin/run":     {Data: []byte("#!/bin/true\n"), Exec: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Commit("fleet", "main", "second", gitserver.Text(map[string]string{"fleet.yaml": "name: test2\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Fatal("two commits, one hash")
	}
	dir := t.TempDir()
	r, err := git.PlainClone(dir, false, &git.CloneOptions{URL: s.RepoURL("fleet")})
	if err != nil {
		t.Fatalf("clone over smart HTTP: %v", err)
	}
	head, _ := r.Head()
	if head.Hash().String() != second {
		t.Fatalf("head %s, want %s", head.Hash(), second)
	}
	if b, _ := os.ReadFile(dir + "/fleet.yaml"); string(b) != "name: test2\n" {
		t.Fatalf("fleet.yaml = %q", b)
	}
	if _, err := os.Stat(dir + "/apps/a.yaml"); err == nil {
		t.Fatal("a commit holds exactly the files given: apps/a.yaml should be gone")
	}

	list := func() error {
		rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{s.RepoURL("fleet")}})
		_, err := rem.ListContext(context.Background(), &git.ListOptions{})
		return err
	}
	s.Stop()
	if list() == nil {
		t.Fatal("ls-remote worked against a stopped server")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := list(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
