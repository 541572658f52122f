package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/runbook"
	"github.com/herofleet/herofleet/sitegen"
)

// site has two subcommands: build writes the runbook site once, serve keeps rebuilding it.
func newSiteCommand(g *globals) *cobra.Command {
	site := &cobra.Command{
		Use:   "site",
		Short: "Render the runbook website from the fleet repo",
		Long: `Render the deployment runbook of a fleet repo (the current directory by default) as a static site:
an overview with the topology, a page per role, app and the hosts, procedures, the changelog (when DIR is a git
work tree) and the fleet's own runbook/*.md pages. Broken links, unknown names and names of apps or binaries the
fleet no longer has fail the build with file:line (exit 1).

A runbook page is listed under "Runbook" in the navigation unless its front matter names another section
("section: On call"); a page lists every section by its title and the pages of its own section, fifty at a time.

Pages in runbook/*.md are Go templates; these helpers name fleet objects and fail on unknown names:
` + siteHelpers(),
	}
	site.AddCommand(
		newSiteBuildCommand(g),
		newSiteServeCommand(g),
	)
	return site
}

func newSiteBuildCommand(g *globals) *cobra.Command {
	var opts siteBuildOptions
	cmd := &cobra.Command{
		Use:   "build [DIR] --out OUT",
		Short: "Write the runbook site to OUT (works from file://)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSiteBuild(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type siteBuildOptions struct {
	out      string
	fleetURL string
}

func (o *siteBuildOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.out, "out", "o", "", "output `DIR` (created; a previous site there is replaced)")
	f.StringVar(&o.fleetURL, "fleet-url", "", "fleet repo `URL` the bootstrap commands name (default: the git remote origin)")
}

func runSiteBuild(ctx context.Context, opts siteBuildOptions, g *globals, s streams, args []string) error {
	if opts.out == "" {
		return invalid(errors.New("--out is required"))
	}
	site, err := loadRunbook(dirArg(args), opts.fleetURL)
	if err != nil {
		return err
	}
	b := sitegen.Builder{Logger: g.logger()}
	if err := b.Build(ctx, site, opts.out); err != nil {
		return siteError(err)
	}
	fmt.Fprintf(s.out, "%s: %d pages; open %s\n", opts.out, len(site.Pages), filepath.Join(opts.out, "index.html"))
	return nil
}

func newSiteServeCommand(g *globals) *cobra.Command {
	var opts siteServeOptions
	cmd := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Serve the runbook site and rebuild it, reloading open pages, when the fleet repo changes",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSiteServe(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type siteServeOptions struct {
	listen   string
	fleetURL string
}

func (o *siteServeOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.listen, "listen", "127.0.0.1:1313", "`ADDR` to serve on")
	f.StringVar(&o.fleetURL, "fleet-url", "", "fleet repo `URL` the bootstrap commands name (default: the git remote origin)")
}

// runSiteServe serves the site until SIGINT or SIGTERM.
func runSiteServe(ctx context.Context, opts siteServeOptions, g *globals, _ streams, args []string) error {
	dir := dirArg(args)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// A site that does not build at the start is the user's input (exit 1); later failures are logged.
	return siteError(sitegen.Serve(ctx, sitegen.ServeOptions{
		Addr:   opts.listen,
		Watch:  []string{dir},
		Logger: g.logger(),
		Load: func(context.Context) (sitegen.Site, error) {
			return loadRunbook(dir, opts.fleetURL)
		},
	}))
}

func siteHelpers() string {
	names := make([]string, 0, len(runbook.Helpers))
	for n := range runbook.Helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("  " + runbook.Helpers[n] + "\n")
	}
	return b.String()
}

// loadRunbook loads the fleet in dir and, when dir is the root of a git work tree, its history.
func loadRunbook(dir, fleetURL string) (sitegen.Site, error) {
	f, err := loadFleet(dir)
	if err != nil {
		return sitegen.Site{}, err
	}
	opts := runbook.Options{FleetURL: fleetURL}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		repo, err := git.PlainOpen(dir)
		if err != nil {
			return sitegen.Site{}, fmt.Errorf("open fleet repo %s: %w", dir, err)
		}
		if head, err := repo.Head(); err == nil { // a repo without commits has no history yet
			if opts.History, err = runbook.LoadHistory(repo, head.Hash()); err != nil {
				return sitegen.Site{}, err
			}
		}
		if opts.FleetURL == "" {
			if remote, err := repo.Remote("origin"); err == nil && len(remote.Config().URLs) > 0 {
				opts.FleetURL = remote.Config().URLs[0]
			}
		}
	}
	site, err := runbook.Site(f, opts)
	if err != nil {
		return sitegen.Site{}, siteError(err)
	}
	return site, nil
}

// siteError makes a list of problems in the fleet's pages an invalid-input error (exit 1).
func siteError(err error) error {
	if err == nil {
		return nil
	}
	var be *sitegen.BuildError
	if errors.As(err, &be) {
		return invalid(fmt.Errorf("%v\n%d problem(s) in the runbook", be, len(be.Problems)))
	}
	return err
}
