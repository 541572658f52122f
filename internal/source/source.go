// Package source keeps full clones of app source repos, one bare repo per URL, and resolves refs in them locally:
// a 40-hex ref is a commit, anything else a branch, then a tag. Shallow fetches are avoided on purpose (fragile
// in go-git); a remote is listed first and fetched only when the ref moved.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/herofleet/herofleet/fleet"
)

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Cache is a folder of bare clones, one per repo URL.
type Cache struct {
	Dir     string
	Rewrite func(url string) string // applied to every URL before it is reached; nil keeps URLs as they are

	mu    sync.Mutex
	repos map[string]*sync.Mutex // per clone: two resolves of one repo never fetch into it at once
}

// Resolve finds the commit ref names in the repo at url, fetching only what is missing.
func (c *Cache) Resolve(ctx context.Context, url, ref string) (*git.Repository, plumbing.Hash, error) {
	url = c.rewrite(url)
	unlock := c.lock(url)
	defer unlock()
	repo, err := openBare(c.repoDir(url))
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
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{})
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("ls-remote %s: %w", url, err)
	}
	remote := findRef(refs, ref)
	if remote == nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s has no branch or tag %q", url, ref)
	}
	if local, err := repo.Reference(remote.Name(), true); err != nil || local.Hash() != remote.Hash() {
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

// maxServiceFile bounds a service.toml read from an app's repo.
const maxServiceFile = 256 << 10

// ServiceFiles reads the service.toml files of repo at ref (fleet.IsServiceFile): deep validation's source.
func (c *Cache) ServiceFiles(ctx context.Context, url, ref string) ([]fleet.ServiceFile, string, error) {
	repo, h, err := c.Resolve(ctx, url, ref)
	if err != nil {
		return nil, "", err
	}
	commit, err := repo.CommitObject(h)
	if err != nil {
		return nil, "", err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, "", err
	}
	var out []fleet.ServiceFile
	err = tree.Files().ForEach(func(f *object.File) error {
		if !fleet.IsServiceFile(f.Name) || !f.Mode.IsFile() {
			return nil
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, maxServiceFile+1))
		if err != nil {
			return err
		}
		if len(data) > maxServiceFile {
			return fmt.Errorf("%s is over %d bytes", f.Name, maxServiceFile)
		}
		out = append(out, fleet.ServiceFile{Path: f.Name, Data: data})
		return nil
	})
	return out, h.String(), err
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

// fetchAll mirrors every branch and tag of url through an anonymous remote: the URL is never stored, so a
// changed rewrite takes effect at once.
func fetchAll(ctx context.Context, repo *git.Repository, url string) error {
	rem := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	err := rem.FetchContext(ctx, &git.FetchOptions{
		RefSpecs: []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"},
		Tags:     git.NoTags,
		Force:    true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %w", url, err)
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
