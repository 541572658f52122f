package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/fleet"
)

// LockMove is one entry a lock run added, moved or dropped.
type LockMove struct {
	fleet.LockKey
	From, To string // commits; From empty: added, To empty: dropped
}

func (m LockMove) String() string {
	switch {
	case m.From == "":
		return fmt.Sprintf("add  %s %s", m.LockKey, fleet.ShortCommit(m.To))
	case m.To == "":
		return fmt.Sprintf("drop %s %s", m.LockKey, fleet.ShortCommit(m.From))
	}
	return fmt.Sprintf("move %s %s -> %s", m.LockKey, fleet.ShortCommit(m.From), fleet.ShortCommit(m.To))
}

// Lock works out f's lock: every (app, ref) f names, each kept at its entry in f.Lock unless update says to
// re-resolve its app; entries f no longer names are dropped. A new or re-resolved entry is resolved in the clone
// cache (one ref listing per repo), so its commit is known to exist and to be on its ref. With checkKept, a kept
// entry is checked to be on its ref too (OnRef), and one that is not fails the whole lock, naming its line;
// without it, kept entries need no network (lock --artifact after a build). An entry that keeps its commit keeps its
// artifact; one that moves loses it (the archive was built from the old commit).
func (c *Cache) Lock(ctx context.Context, f *fleet.Fleet, update func(app string) bool, checkKept bool) (*fleet.Lock, []LockMove, error) {
	out := &fleet.Lock{}
	var moves []LockMove
	var errs []error
	c.NewRound()
	for _, need := range f.LockNeeds() {
		old, had := f.Lock.Find(need.App, need.Ref)
		if had && !update(need.App) {
			// with checkKept (lock --update, which reaches the forge anyway), a kept entry is written again only if
			// it is on its ref (see OnRef)
			if checkKept {
				if err := c.checkOnRef(ctx, need, old); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			out.Entries = append(out.Entries, fleet.LockEntry{App: need.App, Ref: need.Ref, Commit: old.Commit, Artifact: old.Artifact})
			continue
		}
		commit := need.Ref
		if !IsCommit(need.Ref) {
			_, h, err := c.Resolve(ctx, need.Repo, need.Ref)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s (named at %s): %w", need.LockKey, need.At, err))
				continue
			}
			commit = h.String()
		}
		ent := fleet.LockEntry{App: need.App, Ref: need.Ref, Commit: commit}
		if had && old.Commit == commit {
			ent.Artifact = old.Artifact
		}
		out.Entries = append(out.Entries, ent)
		if !had || old.Commit != commit {
			moves = append(moves, LockMove{LockKey: need.LockKey, From: old.Commit, To: commit})
		}
	}
	if f.Lock != nil {
		for _, old := range f.Lock.Entries {
			if _, ok := out.Find(old.App, old.Ref); !ok && !needed(f, old.Key()) {
				moves = append(moves, LockMove{LockKey: old.Key(), From: old.Commit})
			}
		}
	}
	out.Sort()
	return out, moves, errors.Join(errs...)
}

// checkOnRef refuses a kept entry whose commit is not on its ref, naming its line.
func (c *Cache) checkOnRef(ctx context.Context, need fleet.LockNeed, old fleet.LockEntry) error {
	on, err := c.OnRef(ctx, need.Repo, need.Ref, old.Commit)
	if err == nil && on {
		return nil
	}
	why := fmt.Sprintf("is not on %s", need.Ref)
	if err != nil {
		why = fmt.Sprintf("cannot be checked against %s: %v", need.Ref, err)
	}
	return fmt.Errorf("%s:%d: %s: commit %s %s; run herofleet lock --update %s", fleet.LockFile, old.Line, need.LockKey, old.Commit, why, need.App)
}

func needed(f *fleet.Fleet, k fleet.LockKey) bool {
	for _, n := range f.LockNeeds() {
		if n.LockKey == k {
			return true
		}
	}
	return false
}

// OnRef reports whether commit is on ref in the repo at url: ref's own commit (a branch's tip, a tag's commit)
// or one of its ancestors. A 40-hex ref is on itself only. A locked commit must be on its ref: one that exists
// only on another branch of the app's repo would otherwise be installed in the ref's name. Its error wraps
// ErrNoRef when the ref or the commit is not in the repo.
func (c *Cache) OnRef(ctx context.Context, url, ref, commit string) (bool, error) {
	if IsCommit(ref) {
		return ref == commit, nil
	}
	repo, tip, err := c.Resolve(ctx, url, ref)
	if err != nil {
		return false, err
	}
	if tip.String() == commit {
		return true, nil
	}
	if _, _, err := c.Resolve(ctx, url, commit); err != nil { // fetched when missing
		return false, err
	}
	unlock := c.lock(c.rewrite(url))
	defer unlock()
	tipCommit, err := repo.CommitObject(tip)
	if err != nil {
		return false, err
	}
	locked, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return false, fmt.Errorf("commit %s: %w", commit, ErrNoRef)
	}
	return locked.IsAncestor(tipCommit)
}
