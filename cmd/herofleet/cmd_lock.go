package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/atomicfile"
)

func newLockCommand(g *globals) *cobra.Command {
	var opts lockOptions
	cmd := &cobra.Command{
		Use:   "lock [--update [APP...]] [DIR]",
		Short: "Write fleet.lock: every (app, ref) the fleet names, pinned to a commit",
		Long: `Write fleet.lock at the fleet repo's root (the current directory by default): every (app, ref) the
fleet names (each app's source.ref and every host pin) pinned to a 40-hex commit. With a lock, agents install
each app at its locked commit and never list app repos' refs; moving the lock is a fleet commit.

Without --update, entries already in the lock never move: missing ones are added (resolved on the forge) and
unused ones dropped. With --update, the named apps (all when none is named) are re-resolved to their refs'
newest commits. The same input writes the same bytes.

With --update, the last argument is the fleet directory when it holds a fleet.yaml; the others name apps.

Exit status: 0 written (or already right), 1 the fleet is invalid, 2 a ref could not be resolved.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLock(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type lockOptions struct {
	update    bool
	rewrites  []string
	cacheDir  string
	artifacts []string // APP=URL@SHA256
}

func (o *lockOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.update, "update", false, "re-resolve the named apps (all when none is named) to their refs' newest commits")
	f.StringArrayVar(&o.rewrites, "rewrite", nil, "rewrite URLs starting with FROM to start with TO (`FROM=TO`)")
	f.StringVar(&o.cacheDir, "cache", "", "where app clones are kept (default: $XDG_CACHE_HOME/herofleet/sources)")
	f.StringArrayVar(&o.artifacts, "artifact", nil, "record the archive built from APP's locked commit (`APP=URL@SHA256`, from herofleet build)")
}

func runLock(ctx context.Context, opts lockOptions, _ *globals, s streams, args []string) error {
	dir, apps, err := lockArgs(opts.update, args)
	if err != nil {
		return invalid(err)
	}
	f, err := loadForLock(dir)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if f.Apps[a] == nil {
			return invalid(fmt.Errorf("lock --update: unknown app %q", a))
		}
	}
	update := func(app string) bool { return opts.update && (len(apps) == 0 || slices.Contains(apps, app)) }
	cache, err := sourceCache(opts.rewrites, opts.cacheDir)
	if err != nil {
		return err
	}
	lock, moves, err := cache.Lock(ctx, f, update, opts.update) // --update reaches the forge: kept entries are checked to be on their refs
	if err != nil {
		return fmt.Errorf("lock: %w", err) // nothing is written: the lock stays as it was
	}
	if err := recordArtifacts(f, lock, opts.artifacts); err != nil {
		return invalid(err)
	}
	path := filepath.Join(dir, fleet.LockFile)
	data := lock.Format()
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		fmt.Fprintf(s.out, "%s: up to date (%d entries)\n", path, len(lock.Entries))
		return nil
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return err
	}
	for _, m := range moves {
		fmt.Fprintln(s.out, m)
	}
	fmt.Fprintf(s.out, "%s: wrote %d entries\n", path, len(lock.Entries))
	return nil
}

// lockArgs splits [APP...] [DIR]: without --update only DIR may be given; with it, the last argument is DIR when
// it holds a fleet.yaml.
func lockArgs(update bool, args []string) (dir string, apps []string, err error) {
	if !update {
		if len(args) > 1 {
			return "", nil, errors.New("lock takes at most one DIR (name apps with --update)")
		}
		return dirArg(args), nil, nil
	}
	if n := len(args); n > 0 {
		if st, err := os.Stat(filepath.Join(args[n-1], "fleet.yaml")); err == nil && st.Mode().IsRegular() {
			return args[n-1], args[:n-1], nil
		}
	}
	return ".", args, nil
}

// loadForLock loads the fleet, tolerating problems of fleet.lock itself (the lock is what this command fixes);
// any other problem is refused as validate would.
func loadForLock(dir string) (*fleet.Fleet, error) {
	f, err := fleet.LoadDir(dir)
	var fe fleet.Errors
	if !errors.As(err, &fe) {
		return f, err
	}
	var rest fleet.Errors
	for _, e := range fe {
		if e.File != fleet.LockFile {
			rest = append(rest, e)
		}
	}
	if len(rest) > 0 {
		return nil, fleetProblems(rest, dir)
	}
	return f, nil
}

// recordArtifacts pins archives to the lock entries of their apps' own refs: APP=URL@SHA256, split at the last @
// (a sha256 holds none).
func recordArtifacts(f *fleet.Fleet, lock *fleet.Lock, flags []string) error {
	for _, flag := range flags {
		app, rest, ok := strings.Cut(flag, "=")
		i := strings.LastIndex(rest, "@")
		if !ok || i < 0 {
			return fmt.Errorf("--artifact %q: write APP=URL@SHA256", flag)
		}
		art := &fleet.Artifact{URL: rest[:i], SHA256: rest[i+1:]}
		a := f.Apps[app]
		if a == nil {
			return fmt.Errorf("--artifact: unknown app %q", app)
		}
		if !fleet.ValidSHA256(art.SHA256) {
			return fmt.Errorf("--artifact %s: sha256 must be 64 lowercase hex digits", app)
		}
		if u, err := url.Parse(art.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
			return fmt.Errorf("--artifact %s: %q is not an http(s) or file URL", app, art.URL)
		}
		idx := slices.IndexFunc(lock.Entries, func(e fleet.LockEntry) bool { return e.App == app && e.Ref == a.Source.RefOrDefault() })
		if idx < 0 {
			return fmt.Errorf("--artifact: app %s has no lock entry (no source to lock)", app)
		}
		lock.Entries[idx].Artifact = art
	}
	return nil
}
