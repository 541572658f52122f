package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// sources is the cache of app source repos: one full bare clone per repo URL under <dir>/sources. Refs are
// resolved locally after a fetch; shallow fetches are avoided on purpose (fragile in go-git).
type sources struct {
	dir string

	mu    sync.Mutex
	round map[string][]*plumbing.Reference // ls-remote answers of the current sync round, by URL
}

func newSources(dir string) *sources {
	return &sources{dir: dir, round: map[string][]*plumbing.Reference{}}
}

// newRound forgets the remote listings, so the next resolve asks each remote again.
func (s *sources) newRound() {
	s.mu.Lock()
	s.round = map[string][]*plumbing.Reference{}
	s.mu.Unlock()
}

// repoDir is where the clone of url lives: a readable name plus a hash, so two URLs never share a folder.
func (s *sources) repoDir(url string) string {
	sum := sha256.Sum256([]byte(url))
	base := strings.TrimSuffix(filepath.Base(strings.TrimRight(url, "/")), ".git")
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, base)
	return filepath.Join(s.dir, base+"-"+hex.EncodeToString(sum[:6]))
}

// resolve finds the commit ref names in the repo at url (already rewritten), fetching only when the remote moved.
// A clone that cannot be read (a fetch killed half-way) is thrown away and cloned again, once.
func (s *sources) resolve(ctx context.Context, url, ref string) (*git.Repository, plumbing.Hash, error) {
	repo, h, err := s.resolveOnce(ctx, url, ref)
	var remote *remoteError
	if err == nil || errors.As(err, &remote) || ctx.Err() != nil {
		return repo, h, err
	}
	if rerr := os.RemoveAll(s.repoDir(url)); rerr != nil {
		return nil, plumbing.ZeroHash, err
	}
	return s.resolveOnce(ctx, url, ref)
}

// remoteError is a remote that did not answer: the local clone is not to blame.
type remoteError struct{ err error }

func (e *remoteError) Error() string { return e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

func (s *sources) resolveOnce(ctx context.Context, url, ref string) (*git.Repository, plumbing.Hash, error) {
	repo, err := openBare(s.repoDir(url))
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if commitRE.MatchString(ref) {
		h := plumbing.NewHash(ref)
		if _, err := repo.CommitObject(h); err == nil {
			return repo, h, nil // a commit never moves: no network needed
		}
		if err := fetchAll(ctx, repo, url); err != nil {
			return nil, plumbing.ZeroHash, err
		}
		if _, err := repo.CommitObject(h); err != nil {
			return nil, plumbing.ZeroHash, fmt.Errorf("commit %s not found in %s", ref, url)
		}
		return repo, h, nil
	}
	refs, err := s.list(ctx, url)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	remote := findRef(refs, ref)
	if remote == nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s has no branch or tag %q", url, ref)
	}
	local, err := repo.Reference(remote.Name(), true)
	if err != nil || local.Hash() != remote.Hash() {
		if err := fetchAll(ctx, repo, url); err != nil {
			return nil, plumbing.ZeroHash, err
		}
	}
	h, err := peelToCommit(repo, remote.Name())
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s %s: %w", url, ref, err)
	}
	return repo, h, nil
}

// list is ls-remote, asked at most once per URL per sync round.
func (s *sources) list(ctx context.Context, url string) ([]*plumbing.Reference, error) {
	s.mu.Lock()
	refs, ok := s.round[url]
	s.mu.Unlock()
	if ok {
		return refs, nil
	}
	refs, err := lsRemote(ctx, url)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.round[url] = refs
	s.mu.Unlock()
	return refs, nil
}

func lsRemote(ctx context.Context, url string) ([]*plumbing.Reference, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{})
	if err != nil {
		return nil, &remoteError{fmt.Errorf("ls-remote %s: %w", url, err)}
	}
	return refs, nil
}

// findRef looks ref up as a branch, then as a tag.
func findRef(refs []*plumbing.Reference, ref string) *plumbing.Reference {
	for _, name := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)} {
		for _, r := range refs {
			if r.Name() == name && r.Type() == plumbing.HashReference {
				return r
			}
		}
	}
	return nil
}

func openBare(dir string) (*git.Repository, error) {
	if r, err := git.PlainOpen(dir); err == nil {
		return r, nil
	}
	r, err := git.PlainInit(dir, true)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return r, nil
}

// fetchAll mirrors every branch and tag of url into repo.
func fetchAll(ctx context.Context, repo *git.Repository, url string) error {
	return fetch(ctx, repo, url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
}

// fetch fetches refspecs from url into repo through an anonymous remote: the URL is never stored, so a changed
// rewrite takes effect at once.
func fetch(ctx context.Context, repo *git.Repository, url string, specs ...config.RefSpec) error {
	rem := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	err := rem.FetchContext(ctx, &git.FetchOptions{RefSpecs: specs, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		err = fmt.Errorf("fetch %s: %w", url, err)
		var netErr net.Error
		if errors.As(err, &netErr) || errors.Is(err, transport.ErrRepositoryNotFound) {
			return &remoteError{err}
		}
		return err
	}
	return nil
}

// peelToCommit follows an annotated tag to its commit.
func peelToCommit(repo *git.Repository, name plumbing.ReferenceName) (plumbing.Hash, error) {
	r, err := repo.Reference(name, true)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h := r.Hash()
	if tag, err := repo.TagObject(h); err == nil {
		c, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return c.Hash, nil
	}
	if _, err := repo.CommitObject(h); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}
