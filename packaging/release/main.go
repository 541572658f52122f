package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/herofleet/herofleet/packaging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		version = flag.String("version", "dev", "the release's version, stamped into herofleet and the file names")
		commit  = flag.String("commit", "", "the commit stamped into herofleet (default: HEAD)")
		out     = flag.String("out", "dist", "where the release files go")
		targets = flag.String("targets", "linux/amd64,linux/arm64", "OS/ARCH pairs")
		plugins = flag.String("plugins", "seed-git config-file", "shipped plugins: cmd/herofleet-plugin-NAME (missing ones are skipped)")
		docs    = flag.String("docs", "README.md docs/provisioning.md docs/plugins.md", "documentation files shipped (missing ones are skipped)")
	)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	head, when, err := headCommit(dir)
	if err != nil {
		return err
	}
	if *commit == "" {
		*commit = head
	}
	r := &packaging.Release{Dir: dir, Out: *out, Version: *version, Commit: *commit, Time: when, Log: log,
		Binaries: []string{"./cmd/herofleet"}}
	for _, p := range strings.Fields(*plugins) {
		r.Binaries = append(r.Binaries, "./cmd/herofleet-plugin-"+p)
	}
	for _, d := range strings.Fields(*docs) {
		if _, err := os.Stat(filepath.Join(dir, d)); err != nil {
			log.Warn("skipping a missing doc", "file", d)
			continue
		}
		r.Docs = append(r.Docs, d)
	}
	for _, t := range strings.Split(*targets, ",") {
		goos, arch, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok {
			return fmt.Errorf("-targets: %q is not OS/ARCH", t)
		}
		r.Targets = append(r.Targets, packaging.Target{OS: goos, Arch: arch})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	arts, err := r.Build(ctx)
	if err != nil {
		return err
	}
	for _, a := range arts {
		fmt.Printf("%s  %s (%d bytes)\n", a.SHA256, filepath.Join(*out, a.Name), a.Size)
	}
	fmt.Println(filepath.Join(*out, packaging.SumsFile))
	return nil
}

// headCommit is HEAD's hash and the time every archive entry gets: SOURCE_DATE_EPOCH when set, else HEAD's
// committer time, so two builds of one commit agree.
func headCommit(dir string) (string, time.Time, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("open the repo: %w", err)
	}
	ref, err := repo.Head()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("HEAD: %w", err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("HEAD: %w", err)
	}
	when := c.Committer.When.UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		when = time.Unix(sec, 0).UTC()
	}
	return ref.Hash().String(), when, nil
}
