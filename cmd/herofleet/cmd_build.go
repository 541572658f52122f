package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/artifact"
	"github.com/herofleet/herofleet/internal/source"
)

func newBuildCommand(g *globals) *cobra.Command {
	var opts buildOptions
	cmd := &cobra.Command{
		Use:   "build APP [DIR] --out OUT",
		Short: "Build an app once for the whole fleet: a reproducible archive to name as its artifact",
		Long: `Build APP of the fleet in DIR (the current directory by default) exactly as an agent would: clone it
at its ref, run its build command in the checked-out tree with a minimal environment (PATH, HOME, LANG and
--build-env), and write the tree (without .git) as a reproducible gzipped tar OUT, with its sha256 in OUT.sha256.
It prints the artifact: line to put in the app's file once OUT is published.

Two builds of one commit give the same sha256 when the build itself is reproducible.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type buildOptions struct {
	app, dir, out, baseURL, cache, path string
	rewrites, buildEnv                  []string // the flags, parsed into rewrite and env
	rewrite                             source.Rewrites
	env                                 map[string]string
}

func (o *buildOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.out, "out", "o", "", "the archive to write (`FILE`.tar.gz); its sha256 goes to FILE.tar.gz.sha256")
	f.StringVar(&o.baseURL, "url", "", "where OUT will be published (`BASE` URL), for the printed artifact: line")
	f.StringArrayVar(&o.rewrites, "rewrite", nil, "rewrite URLs starting with FROM to start with TO (`FROM=TO`)")
	f.StringVar(&o.cache, "cache", "", "where clones are kept (default: $XDG_CACHE_HOME/herofleet/sources)")
	f.StringVar(&o.path, "path", agent.DefaultPath, "PATH of the build")
	f.StringArrayVar(&o.buildEnv, "build-env", nil, "add a variable to the build's environment (`KEY=VALUE`), like the agent's build_env")
}

// runBuild checks the flags and builds APP until done or SIGINT/SIGTERM.
func runBuild(ctx context.Context, opts buildOptions, _ *globals, s streams, args []string) error {
	opts.app, opts.dir = args[0], dirArg(args[1:])
	var err error
	if opts.rewrite, err = source.ParseRewrites(opts.rewrites); err != nil {
		return invalid(err)
	}
	if opts.env, err = parseEnv(opts.buildEnv); err != nil {
		return invalid(err)
	}
	if opts.out == "" {
		return invalid(errors.New("--out is required: where to write the archive"))
	}
	if opts.cache == "" {
		if opts.cache, err = defaultCacheDir(); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return buildArtifact(ctx, opts, s.out, s.err)
}

// buildArtifact builds one app in a scratch folder and packs the tree into o.out; the snippet goes to stdout, the
// build's own output to stderr.
func buildArtifact(ctx context.Context, o buildOptions, stdout, stderr io.Writer) error {
	f, err := loadFleet(o.dir)
	if err != nil {
		return err
	}
	app := f.Apps[o.app]
	switch {
	case app == nil:
		return invalid(fmt.Errorf("%s: the fleet has no app %q", o.dir, o.app))
	case app.Source.Repo == "":
		return invalid(fmt.Errorf("%s: app %s has no source to build", app.File, o.app))
	}
	if err := checkPortableBuild(app); err != nil {
		return invalid(fmt.Errorf("%s: %w", app.File, err))
	}
	ref := app.Source.RefOrDefault()
	if ent, ok := f.Lock.Find(app.Name, ref); ok {
		ref = ent.Commit // with a lock, the archive is built from the commit agents would install
	}
	cache := &source.Cache{Dir: o.cache, Rewrite: o.rewrite.Apply}
	repo, h, err := cache.Resolve(ctx, app.Source.Repo, ref)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", app.Source.Repo, ref, err)
	}
	scratch, err := os.MkdirTemp("", "herofleet-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	tree := filepath.Join(scratch, "tree")
	spec := build.Spec{
		Dir: tree, Vars: fleet.Vars{App: app.Name, Rev: h.String()},
		Path: o.path, Home: filepath.Join(scratch, "home"), Lang: agent.DefaultLang, Env: o.env,
	}
	if err := os.Mkdir(spec.Home, 0o700); err != nil {
		return err
	}
	if err := build.Tree(ctx, repo, h, app, spec, stderr); err != nil {
		return fmt.Errorf("build %s at %s: %w", app.Name, h, err)
	}
	sum, err := writeArchive(tree, o.out)
	if err != nil {
		return err
	}
	name := filepath.Base(o.out)
	base := strings.TrimRight(o.baseURL, "/")
	if base == "" {
		base = "<your URL>"
	}
	fmt.Fprintf(stderr, "herofleet: %s at %s built into %s (sha256 %s)\n", app.Name, h, o.out, sum)
	fmt.Fprintf(stdout, "artifact: {url: %s/%s, sha256: %s}\n", base, name, sum)
	return nil
}

// checkPortableBuild refuses a build command that names a host's own values: built once, it runs on every host.
func checkPortableBuild(app *fleet.App) error {
	if app.Build == nil {
		return nil
	}
	probe := fleet.Vars{App: "a", Rev: "r", Data: "\x00data", Host: "\x00host", Sockets: "\x00sockets", Secrets: "\x00secrets"}
	for i, arg := range app.Build.Command {
		v, err := fleet.Expand(arg, probe)
		if err != nil {
			return fmt.Errorf("build.command[%d]: %w", i, err)
		}
		for _, name := range []string{"data", "host", "secrets", "sockets"} {
			if strings.Contains(v, "\x00"+name) {
				return fmt.Errorf("build.command[%d] uses ${%s}, which differs per host: it cannot be built once for the fleet", i, name)
			}
		}
	}
	return nil
}

// writeArchive packs tree into out atomically (a temp file renamed into place) and writes out.sha256 in the
// format of sha256sum, so that `sha256sum -c` checks it.
func writeArchive(tree, out string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	sum, err := artifact.Pack(tree, tmp, func(rel string) bool { return rel == ".git" || strings.HasPrefix(rel, ".git/") })
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	if err := os.WriteFile(out+".sha256", []byte(sum+"  "+filepath.Base(out)+"\n"), 0o644); err != nil {
		return "", err
	}
	return sum, nil
}

// parseEnv reads KEY=VALUE flags.
func parseEnv(flags []string) (map[string]string, error) {
	env := map[string]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--build-env %q: write KEY=VALUE", f)
		}
		env[k] = v
	}
	return env, nil
}
