package fleet

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// ServiceFile is one service.toml of an app's source tree.
type ServiceFile struct {
	Path string // inside the source tree: "service.toml", "crates/hero_books_server/service.toml"
	Data []byte
}

// ErrNoRef is what an AppSources returns (wrapped) when the repo has no such branch, tag or commit: the fleet names
// something absent, a problem in the fleet. Any other error means the check could not be made (the forge is down).
var ErrNoRef = errors.New("no such ref")

// AppSources reads the service.toml files of an app at a ref (see IsServiceFile): the root one and its crates'.
// The reader applies URL rewrites and caches clones; fleet only compares.
type AppSources interface {
	ServiceFiles(ctx context.Context, repo, ref string) (files []ServiceFile, commit string, err error)
}

// RefReach is what AppSources also offer when they can tell whether a commit is on a ref: its own commit (a
// branch's tip, a tag's commit) or an ancestor of it. With it, deep validation refuses a locked commit that is
// not on the ref it is locked for, such as a commit that exists only on another branch of the app's repo.
type RefReach interface {
	OnRef(ctx context.Context, repo, ref, commit string) (bool, error)
}

// serviceManifest is the part of a Hero service.toml that deep validation reads. Other keys ([[env]],
// [[dependencies]], category) belong to the app and are ignored.
type serviceManifest struct {
	Binaries []struct {
		Name string `toml:"name"`
		Kind string `toml:"kind"`
	} `toml:"binaries"`
}

// CheckManifests is deep validation: for every app and every ref it is used at (its own and each host's pin), the
// fleet's binary set must equal the server, web and admin binaries its service.toml declares, kind for kind. A
// variant (a web or admin binary) can never be silently dropped. All problems are returned together as Errors.
func CheckManifests(ctx context.Context, f *Fleet, src AppSources) error {
	e := &errs{}
	for _, name := range f.AppNames() {
		a := f.Apps[name]
		if a.Source.Repo == "" {
			continue // an artifact-only app has no source to compare with
		}
		for _, ref := range refsInUse(f, a) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := checkManifest(ctx, f, a, ref, src, e); err != nil {
				return err
			}
		}
	}
	return e.err()
}

// refsInUse: the app's own ref, then every distinct pin of it, sorted.
func refsInUse(f *Fleet, a *App) []string {
	own := a.Source.RefOrDefault()
	var pins []string
	for _, h := range f.Hosts {
		if p := h.Pin[a.Name]; p != "" && p != own && !slices.Contains(pins, p) {
			pins = append(pins, p)
		}
	}
	slices.Sort(pins)
	return append([]string{own}, pins...)
}

// checkManifest adds the app's problems at ref to e; an error means the check could not be made.
// With a lock, the app is read at its locked commit (what agents install), and a commit missing from the repo is
// the lock's problem.
func checkManifest(ctx context.Context, f *Fleet, a *App, ref string, src AppSources, e *errs) error {
	where := fmt.Sprintf("%s@%s", a.Source.Repo, ref)
	read := ref
	ent, locked := f.Lock.Find(a.Name, ref)
	if locked {
		read = ent.Commit
	}
	files, commit, err := src.ServiceFiles(ctx, a.Source.Repo, read)
	switch {
	case locked && errors.Is(err, ErrNoRef):
		e.add(LockFile, Pos{Line: ent.Line, Col: 1}, "%s: commit %s is not in %s; run herofleet lock --update %s",
			ent.Key(), ent.Commit, a.Source.Repo, a.Name)
		return nil
	case errors.Is(err, ErrNoRef) || errors.Is(err, transport.ErrRepositoryNotFound):
		e.add(a.File, a.pos.at("source.repo"), "app %s: cannot read its source at %s: %v", a.Name, ref, err)
		return nil
	case err != nil:
		return fmt.Errorf("app %s: %w", a.Name, err)
	}
	if reach, ok := src.(RefReach); ok && locked {
		on, err := reach.OnRef(ctx, a.Source.Repo, ref, ent.Commit)
		switch {
		case errors.Is(err, ErrNoRef):
			e.add(a.File, a.pos.at("source.repo"), "app %s: cannot read its source at %s: %v", a.Name, ref, err)
		case err != nil:
			return fmt.Errorf("app %s: %w", a.Name, err)
		case !on:
			e.add(LockFile, Pos{Line: ent.Line, Col: 1}, "%s: commit %s is not on %s of %s (neither its commit nor an ancestor of it); run herofleet lock --update %s",
				ent.Key(), ent.Commit, ref, a.Source.Repo, a.Name)
		}
	}
	where = fmt.Sprintf("%s (%s)", where, ShortRev(commit))
	if len(files) == 0 {
		e.add(a.File, a.pos.at("source.repo"), "app %s: %s has no service.toml declaring its binaries", a.Name, where)
		return nil
	}
	declared := map[string]string{} // binary -> kind
	from := map[string]string{}     // binary -> service.toml path
	for _, sf := range files {
		var m serviceManifest
		if _, err := toml.Decode(string(sf.Data), &m); err != nil {
			e.add(a.File, a.pos.at("source.repo"), "app %s: %s:%s: %v", a.Name, where, sf.Path, err)
			continue
		}
		for _, b := range m.Binaries {
			if slices.Contains(Kinds, b.Kind) {
				declared[b.Name], from[b.Name] = b.Kind, sf.Path
			}
		}
	}
	inFleet := map[string]bool{}
	for i, b := range a.Binaries {
		inFleet[b.Name] = true
		kind, ok := declared[b.Name]
		switch {
		case !ok:
			e.add(a.File, a.pos.at(fmt.Sprintf("binaries[%d].name", i)), "app %s: binary %s is not a server, web or admin binary of %s:%s",
				a.Name, b.Name, where, manifestNames(files))
		case kind != b.Kind:
			e.add(a.File, a.pos.at(fmt.Sprintf("binaries[%d].kind", i)), "app %s: binary %s is kind %s here but %s in %s:%s",
				a.Name, b.Name, b.Kind, kind, where, from[b.Name])
		}
	}
	var missing []string
	for name, kind := range declared {
		if !inFleet[name] {
			missing = append(missing, fmt.Sprintf("%s (%s, declared in %s)", name, kind, from[name]))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		e.add(a.File, a.pos.at("binaries"), "app %s: missing binaries that %s declares: %s; a bundle is installed whole, add them to binaries",
			a.Name, where, strings.Join(missing, ", "))
	}
	return nil
}

func manifestNames(files []ServiceFile) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
	}
	return strings.Join(names, ", ")
}

// IsServiceFile says whether a path in a source tree is a service.toml that deep validation reads: the root one,
// or one in a crate folder up to two levels down (crates/<crate>/service.toml).
func IsServiceFile(p string) bool {
	return path.Base(p) == "service.toml" && strings.Count(p, "/") <= 2
}

// CheckPlugins reports every hook that names a plugin not in available (the plugins an agent would find).
func CheckPlugins(f *Fleet, available []string) error {
	e := &errs{}
	for _, name := range f.AppNames() {
		a := f.Apps[name]
		for i, h := range a.Hooks {
			if h.Plugin == "" || slices.Contains(available, h.Plugin) {
				continue
			}
			found := "no plugin is installed"
			if len(available) > 0 {
				found = "installed: " + strings.Join(available, ", ")
			}
			e.add(a.File, a.pos.at(fmt.Sprintf("hooks[%d].plugin", i)), "hooks[%d]: unknown plugin %q%s (%s)",
				i, h.Plugin, suggest(h.Plugin, available), found)
		}
	}
	return e.err()
}
