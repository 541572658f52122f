package main

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// scriptForge is the testscript command "forge": a real git forge (git http-backend on loopback) for CLI scripts.
//
//	forge start                       serve $WORK/forge; $FORGE is its base URL (repos at $FORGE<name>.git)
//	forge commit VAR REPO BRANCH DIR  commit DIR's files as the whole tree of a new commit; $VAR is its hash
//	forge tag REPO TAG COMMIT         point a tag at a commit
func scriptForge(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! forge")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: forge start|commit|tag")
	}
	switch args[0] {
	case "start":
		srv, err := gitserver.Start(ts.MkAbs("forge"))
		ts.Check(err)
		ts.Defer(srv.Stop)
		ts.Setenv("FORGE", srv.URL())
	case "commit":
		if len(args) != 5 {
			ts.Fatalf("usage: forge commit VAR REPO BRANCH DIR")
		}
		files := gitserver.Files{}
		dir := ts.MkAbs(args[4])
		ts.Check(filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = gitserver.File{Data: data}
			return nil
		}))
		repo, err := gitserver.InitBare(filepath.Join(ts.MkAbs("forge"), args[2]+".git"))
		ts.Check(err)
		h, err := gitserver.Commit(repo, args[3], "commit", files)
		ts.Check(err)
		ts.Setenv(args[1], h)
	case "tag":
		if len(args) != 4 {
			ts.Fatalf("usage: forge tag REPO TAG COMMIT")
		}
		srv := &gitserver.Server{Root: ts.MkAbs("forge")}
		ts.Check(srv.Tag(args[1], args[2], args[3]))
	default:
		ts.Fatalf("unknown forge command %q", args[0])
	}
}
