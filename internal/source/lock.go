package source

import (
	"context"
	"errors"
	"fmt"

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
// cache (one ref listing per repo), so its commit is known to exist. An entry that keeps its commit keeps its
// artifact; one that moves loses it (the archive was built from the old commit).
func (c *Cache) Lock(ctx context.Context, f *fleet.Fleet, update func(app string) bool) (*fleet.Lock, []LockMove, error) {
	out := &fleet.Lock{}
	var moves []LockMove
	var errs []error
	c.NewRound()
	for _, need := range f.LockNeeds() {
		old, had := f.Lock.Find(need.App, need.Ref)
		if had && !update(need.App) {
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

func needed(f *fleet.Fleet, k fleet.LockKey) bool {
	for _, n := range f.LockNeeds() {
		if n.LockKey == k {
			return true
		}
	}
	return false
}
