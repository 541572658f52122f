package runbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/herofleet/herofleet/fleet"
)

// MaxHistory bounds how many commits the changelog and the stale-name check read.
const MaxHistory = 500

// History is what the runbook needs from the fleet repo's git history, newest commit first.
type History struct {
	Commits []Commit
	// removed maps an app or binary name that some commit had and the newest commit lacks to why it is gone.
	removed map[string]string
	// atHead is the apps and binaries of the newest commit, with their kind, for names a work tree dropped.
	atHead map[string]string
}

// Commit is one fleet commit and what it changed in the catalog.
type Commit struct {
	Hash    string
	Author  string
	When    time.Time
	Subject string
	Added   []string // apps
	Removed []string // apps
	Changed []string // apps whose spec changed
	Roles   []string // roles whose file changed (added, removed or edited)
	Hosts   []string
	Pages   []string // runbook/*.md files added, removed or edited
	Broken  bool     // the fleet at this commit does not validate
}

// LoadHistory reads up to MaxHistory commits reachable from head (first parents, newest first) and loads the
// fleet at each, so the changelog can say what each commit did and the runbook can reject names that are gone.
// It holds two fleets at a time (a commit's and its parent's) and only the names of the others, so memory does not
// grow with the history times the size of the fleet.
func LoadHistory(repo *git.Repository, head plumbing.Hash) (*History, error) {
	type loaded struct {
		c      *object.Commit
		f      *fleet.Fleet
		broken bool
	}
	type named struct {
		c     *object.Commit
		names map[string]string
	}
	h := &History{removed: map[string]string{}}
	var chain []named
	var newer *loaded
	c, err := repo.CommitObject(head)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	for c != nil && len(chain) < MaxHistory+1 {
		f, err := fleet.LoadCommit(repo, c.Hash)
		var fe fleet.Errors
		if err != nil && !errors.As(err, &fe) {
			return nil, fmt.Errorf("history: fleet at %s: %w", c.Hash, err)
		}
		if f == nil {
			f = &fleet.Fleet{}
		}
		if newer != nil {
			h.Commits = append(h.Commits, describe(newer.c, newer.f, f, newer.broken))
		}
		newer = &loaded{c, f, err != nil}
		chain = append(chain, named{c, names(f)})
		if c.NumParents() == 0 {
			break
		}
		p, err := c.Parent(0)
		if errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, io.EOF) {
			break // a shallow clone ends here
		}
		if err != nil {
			return nil, fmt.Errorf("history: parent of %s: %w", c.Hash, err)
		}
		c = p
	}
	if len(chain) <= MaxHistory {
		h.Commits = append(h.Commits, describe(newer.c, newer.f, nil, newer.broken)) // the oldest commit read
	}
	// Walk from oldest to newest so that each gone name records the latest commit that removed it.
	headNames := chain[0].names
	h.atHead = headNames
	for i := len(chain) - 1; i >= 1; i-- {
		older, newer := chain[i].names, chain[i-1].names
		for n, kind := range older {
			if _, still := newer[n]; still {
				continue
			}
			if _, back := headNames[n]; back {
				continue
			}
			h.removed[n] = fmt.Sprintf("%s %q is no longer in the fleet (removed in %s %q)", kind, n,
				shortHash(chain[i-1].c.Hash.String()), subject(chain[i-1].c.Message))
		}
	}
	return h, nil
}

// names lists the apps and binaries of a fleet with what kind of name each is.
func names(f *fleet.Fleet) map[string]string {
	out := map[string]string{}
	for n, a := range f.Apps {
		out[n] = "app"
		for _, b := range a.Binaries {
			out[b.Name] = "binary"
		}
	}
	return out
}

func describe(c *object.Commit, f, parent *fleet.Fleet, broken bool) Commit {
	cm := Commit{Hash: c.Hash.String(), Author: c.Author.Name, When: c.Author.When.UTC(), Subject: subject(c.Message),
		Broken: broken}
	if parent == nil {
		parent = &fleet.Fleet{}
	}
	cm.Added, cm.Removed, cm.Changed = diffMaps(parent.Apps, f.Apps)
	ra, rr, rc := diffMaps(parent.Roles, f.Roles)
	cm.Roles = sortedUnion(ra, rr, rc)
	ha, hr, hc := diffMaps(parent.Hosts, f.Hosts)
	cm.Hosts = sortedUnion(ha, hr, hc)
	cm.Pages = changedPages(parent.Runbook, f.Runbook)
	return cm
}

// diffMaps compares two maps of fleet objects by their YAML-visible content (JSON of the exported fields).
func diffMaps[T any](before, after map[string]*T) (added, removed, changed []string) {
	for n, a := range after {
		b, ok := before[n]
		switch {
		case !ok:
			added = append(added, n)
		case !sameJSON(a, b):
			changed = append(changed, n)
		}
	}
	for n := range before {
		if _, ok := after[n]; !ok {
			removed = append(removed, n)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	sort.Strings(changed)
	return
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func sortedUnion(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func subject(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return strings.TrimSpace(s)
}

// staleCheck rejects code spans that name an app or binary the history had and the fleet no longer has. A name that
// is back in the current fleet (f) is fine.
func (h *History) staleCheck(f *fleet.Fleet) func(string) string {
	current := names(f)
	return func(code string) string {
		code = strings.TrimSpace(code)
		if _, ok := current[code]; ok {
			return ""
		}
		if why, ok := h.removed[code]; ok {
			return "stale name " + "`" + code + "`: " + why
		}
		if kind, ok := h.atHead[code]; ok && len(h.Commits) > 0 {
			// The fleet being rendered is a work tree that dropped a name its last commit still has.
			return fmt.Sprintf("stale name `%s`: %s %q is no longer in the fleet (removed in the work tree since %s)",
				code, kind, code, shortHash(h.Commits[0].Hash))
		}
		return ""
	}
}

func changedPages(before, after []fleet.RunbookPage) []string {
	old := map[string]string{}
	for _, p := range before {
		old[p.File] = string(p.Content)
	}
	var out []string
	for _, p := range after {
		if c, ok := old[p.File]; !ok || c != string(p.Content) {
			out = append(out, p.File)
		}
		delete(old, p.File)
	}
	for f := range old {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
