package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/fleet"
)

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ErrNoRef means the remote has no such branch, tag or commit: the clone is fine, the fleet names something absent.
var ErrNoRef = fleet.ErrNoRef

// IsCommit says whether ref names a commit (40 hex digits) rather than a branch or tag.
func IsCommit(ref string) bool { return commitRE.MatchString(ref) }

// Cache is a folder of bare clones, one per repo URL.
type Cache struct {
	Dir     string
	Rewrite func(url string) string // applied to every URL before it is reached; nil keeps URLs as they are

	mu    sync.Mutex
	round map[string][]*plumbing.Reference // ls-remote answers of the current round, by URL
	repos map[string]*sync.Mutex           // per clone: two resolves of one repo never fetch into it at once
}

// NewRound forgets the remote listings, so the next resolve asks each remote again (the agent: once per sync).
func (c *Cache) NewRound() {
	c.mu.Lock()
	c.round = nil
	c.mu.Unlock()
}

// Resolve finds the commit ref names in the repo at url, fetching only what is missing. A clone that cannot be
// read (a fetch killed half-way) is thrown away and cloned again, once; a remote that does not answer is not
// blamed on the clone.
func (c *Cache) Resolve(ctx context.Context, url, ref string) (*git.Repository, plumbing.Hash, error) {
	url = c.rewrite(url)
	unlock := c.lock(url)
	defer unlock()
	repo, h, err := c.resolveOnce(ctx, url, ref)
	var remote *RemoteError
	if err == nil || errors.As(err, &remote) || errors.Is(err, ErrNoRef) || ctx.Err() != nil {
		return repo, h, err
	}
	if rerr := os.RemoveAll(c.repoDir(url)); rerr != nil {
		return nil, plumbing.ZeroHash, err
	}
	return c.resolveOnce(ctx, url, ref)
}

func (c *Cache) resolveOnce(ctx context.Context, url, ref string) (*git.Repository, plumbing.Hash, error) {
	repo, err := OpenBare(c.repoDir(url))
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if IsCommit(ref) {
		h := plumbing.NewHash(ref)
		if _, err := repo.CommitObject(h); err == nil {
			return repo, h, nil // a commit never moves: no network needed
		}
		if err := FetchAll(ctx, repo, url); err != nil {
			return nil, plumbing.ZeroHash, err
		}
		if _, err := repo.CommitObject(h); err != nil {
			return nil, plumbing.ZeroHash, fmt.Errorf("commit %s not found in %s: %w", ref, url, ErrNoRef)
		}
		return repo, h, nil
	}
	refs, err := c.list(ctx, url)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	remote := FindRef(refs, ref)
	if remote == nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s has no branch or tag %q: %w", url, ref, ErrNoRef)
	}
	if local, err := repo.Reference(remote.Name(), true); err != nil || local.Hash() != remote.Hash() {
		if err := FetchAll(ctx, repo, url); err != nil {
			return nil, plumbing.ZeroHash, err
		}
	}
	h, err := PeelToCommit(repo, remote.Name())
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s %s: %w", url, ref, err)
	}
	return repo, h, nil
}

// list is ls-remote, asked at most once per URL per round.
func (c *Cache) list(ctx context.Context, url string) ([]*plumbing.Reference, error) {
	c.mu.Lock()
	refs, ok := c.round[url]
	c.mu.Unlock()
	if ok {
		return refs, nil
	}
	refs, err := LsRemote(ctx, url)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.round == nil {
		c.round = map[string][]*plumbing.Reference{}
	}
	c.round[url] = refs
	c.mu.Unlock()
	return refs, nil
}

func (c *Cache) rewrite(url string) string {
	if c.Rewrite == nil {
		return url
	}
	return c.Rewrite(url)
}

func (c *Cache) lock(url string) func() {
	c.mu.Lock()
	if c.repos == nil {
		c.repos = map[string]*sync.Mutex{}
	}
	m := c.repos[url]
	if m == nil {
		m = &sync.Mutex{}
		c.repos[url] = m
	}
	c.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// repoDir is where the clone of url lives: a readable name plus a hash, so two URLs never share a folder.
func (c *Cache) repoDir(url string) string {
	sum := sha256.Sum256([]byte(url))
	base := strings.TrimSuffix(filepath.Base(strings.TrimRight(url, "/")), ".git")
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, base)
	return filepath.Join(c.Dir, base+"-"+hex.EncodeToString(sum[:6]))
}
