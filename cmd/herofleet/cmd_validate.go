package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/secrets"
)

func newValidateCommand(g *globals) *cobra.Command {
	var opts validateOptions
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a fleet repo: exit 1 on a bad fleet (file:line:col errors), 2 if the check could not run",
		Long: `Check a fleet repo (the current directory by default) against every rule of the fleet format and
report all problems at once, each as file:line:col: message.

Exit status: 0 valid, 1 invalid, 2 the check could not run.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type validateOptions struct {
	deep       bool
	rewrites   []string // FROM=TO, for --deep
	cacheDir   string
	pluginDirs []string
	identity   string // an operator's age identity: every secret must decrypt with it
}

func (o *validateOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.deep, "deep", false, "also clone each app at its ref and compare its binaries with its service.toml")
	f.StringArrayVar(&o.rewrites, "rewrite", nil, "rewrite URLs starting with FROM to start with TO (`FROM=TO`), for --deep")
	f.StringVar(&o.cacheDir, "cache", "", "where --deep keeps its clones (default: $XDG_CACHE_HOME/herofleet/sources)")
	f.StringVar(&o.identity, "identity", "", "also check that every secret decrypts with this operator's age identity `FILE`")
	f.StringArrayVar(&o.pluginDirs, "plugins-dir", nil, "also refuse hooks naming a plugin not found in `DIR` (repeatable)")
}

func runValidate(ctx context.Context, opts validateOptions, _ *globals, s streams, args []string) error {
	dir := dirArg(args)
	f, err := loadFleet(dir)
	if err != nil {
		return err
	}
	if len(opts.pluginDirs) > 0 {
		if err := fleetProblems(fleet.CheckPlugins(f, plugins.Available(opts.pluginDirs)), dir); err != nil {
			return err
		}
	}
	if opts.identity != "" {
		if err := checkSecrets(f, opts.identity); err != nil {
			return err
		}
	}
	if opts.deep {
		cache, err := sourceCache(opts.rewrites, opts.cacheDir)
		if err != nil {
			return err
		}
		if err := fleetProblems(fleet.CheckManifests(ctx, f, cache), dir); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.out, "%s: fleet %q is valid: %d apps, %d roles, %d hosts\n", dir, f.Meta.Name, len(f.Apps), len(f.Roles), len(f.Hosts))
	return nil
}

func dirArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}

// fleetProblems turns fleet.Errors into an invalid-input error with a count; other errors mean the check could
// not run.
func fleetProblems(err error, dir string) error {
	var fe fleet.Errors
	if errors.As(err, &fe) {
		return invalid(fmt.Errorf("%v\n%d problem(s) in %s", fe, len(fe), dir))
	}
	return err
}

// sourceCache is the clone cache that validate --deep and lock reach app repos through: --rewrite applied, in
// --cache or the user's cache directory.
func sourceCache(rewrites []string, dir string) (*source.Cache, error) {
	rw, err := source.ParseRewrites(rewrites)
	if err != nil {
		return nil, invalid(err)
	}
	if dir == "" {
		if dir, err = defaultCacheDir(); err != nil {
			return nil, err
		}
	}
	return &source.Cache{Dir: dir, Rewrite: rw.Apply}, nil
}

func defaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (give --cache): %w", err)
	}
	return filepath.Join(base, "herofleet", "sources"), nil
}

// loadFleet loads the fleet in dir; a fleet with problems is an invalid-input error (exit 1) listing them all.
func loadFleet(dir string) (*fleet.Fleet, error) {
	f, err := fleet.LoadDir(dir)
	if err := fleetProblems(err, dir); err != nil {
		return nil, err
	}
	return f, nil
}

// checkSecrets decrypts every secret with an operator's identity; values are dropped at once.
func checkSecrets(f *fleet.Fleet, identity string) error {
	id, err := secrets.LoadIdentity(identity)
	if err != nil {
		return invalid(err)
	}
	if err := secrets.Check(f, id); err != nil {
		return invalid(fmt.Errorf("%w\nsecrets that %s cannot decrypt (run herofleet secrets rekey after a recipient change)", err, identity))
	}
	return nil
}
