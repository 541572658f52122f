package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/sdk"
)

type config struct {
	Into  string `json:"into"`
	Repos []repo `json:"repos"`
}

type repo struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Ref  string `json:"ref"` // branch, tag or 40-hex commit; empty: the remote's HEAD
}

var (
	repoNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	commitRE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// seed clones every configured repo that is not there yet.
func seed(ctx context.Context, call plugins.Call) (*plugins.Result, error) {
	var cfg config
	if err := sdk.DecodeWith(call.With, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	into, err := sdk.InDataDir(call, cfg.Into)
	if err != nil {
		return nil, fmt.Errorf("into: %w", err)
	}
	if err := os.MkdirAll(into, 0o755); err != nil {
		return nil, err
	}
	res := &plugins.Result{}
	for _, r := range cfg.Repos {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		msg, err := seedOne(ctx, call, into, r)
		if err != nil {
			return res, fmt.Errorf("%s: %w", r.Name, err)
		}
		res.Messages = append(res.Messages, msg)
	}
	return res, nil
}

func (c config) check() error {
	if c.Into == "" {
		return errors.New("with.into is required")
	}
	seen := map[string]bool{}
	for i, r := range c.Repos {
		switch {
		case !repoNameRE.MatchString(r.Name):
			return fmt.Errorf("with.repos[%d].name %q does not match %s", i, r.Name, repoNameRE)
		case seen[r.Name]:
			return fmt.Errorf("with.repos[%d].name %q appears twice", i, r.Name)
		case r.URL == "":
			return fmt.Errorf("with.repos[%d].url is required", i)
		}
		seen[r.Name] = true
	}
	return nil
}

// seedOne clones r to <into>/<name> through a temporary directory beside it, so that a failed or interrupted
// clone never leaves a half repository that a later run would take as seeded.
func seedOne(ctx context.Context, call plugins.Call, into string, r repo) (string, error) {
	target, err := sdk.InDataDir(call, filepath.Join(into, r.Name))
	if err != nil {
		return "", err
	}
	if fi, err := os.Lstat(target); err == nil {
		if !fi.IsDir() {
			return "", fmt.Errorf("%s exists and is not a directory", target)
		}
		return fmt.Sprintf("%s: present at %s, left alone", r.Name, target), nil
	}
	tmp, err := os.MkdirTemp(into, "."+r.Name+".seeding-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	head, err := clone(ctx, tmp, r)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, target); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: cloned %s at %s (%s) into %s", r.Name, redact(r.URL), refOrHead(r.Ref), head.String()[:12], target), nil
}

// clone clones r into dir and checks out its ref: a commit, else a branch, else a tag.
func clone(ctx context.Context, dir string, r repo) (plumbing.Hash, error) {
	opts := &git.CloneOptions{URL: r.URL, Tags: git.NoTags}
	switch {
	case r.Ref == "":
	case commitRE.MatchString(r.Ref):
		opts.Tags = git.AllTags
	default:
		opts.ReferenceName, opts.SingleBranch = plumbing.NewBranchReferenceName(r.Ref), true
	}
	repo, err := git.PlainCloneContext(ctx, dir, false, opts)
	if err != nil && opts.ReferenceName.IsBranch() && isMissingRef(err) {
		if err := emptyDir(dir); err != nil {
			return plumbing.ZeroHash, err
		}
		opts.ReferenceName = plumbing.NewTagReferenceName(r.Ref)
		repo, err = git.PlainCloneContext(ctx, dir, false, opts)
		if err != nil && isMissingRef(err) {
			return plumbing.ZeroHash, fmt.Errorf("ref %q is neither a branch nor a tag of %s", r.Ref, redact(r.URL))
		}
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("clone %s: %w", redact(r.URL), err)
	}
	if commitRE.MatchString(r.Ref) {
		wt, err := repo.Worktree()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if err := wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(r.Ref)}); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("checkout %s: %w", r.Ref, err)
		}
	}
	head, err := repo.Head()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return head.Hash(), nil
}

func isMissingRef(err error) bool {
	var noMatch git.NoMatchingRefSpecError
	return errors.Is(err, plumbing.ErrReferenceNotFound) || errors.As(err, &noMatch)
}

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// redact hides credentials in a URL before it reaches a message or an error.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

func refOrHead(ref string) string {
	if ref == "" {
		return "HEAD"
	}
	return ref
}
