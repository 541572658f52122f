package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
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

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

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
	clearInterrupted(into, r.Name)
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
	return fmt.Sprintf("%s: cloned %s at %s (%s) into %s", r.Name, redact(r.URL), refOrHead(r.Ref), fleet.ShortRev(head.String()), target), nil
}

// clearInterrupted removes the temporary directories of earlier clones of name that never finished: a plugin
// killed half-way (its agent was killed, and the kernel killed it too) cannot remove its own. Hooks of one app run
// one at a time, so no other run is cloning into them.
func clearInterrupted(into, name string) {
	old, _ := filepath.Glob(filepath.Join(into, "."+name+".seeding-*"))
	for _, dir := range old {
		_ = os.RemoveAll(dir)
	}
}

// clone clones r into dir and checks out its ref: a commit, else a branch, else a tag (the rule of
// internal/source, the agent's own), listing the remote first so that only one clone is made.
func clone(ctx context.Context, dir string, r repo) (plumbing.Hash, error) {
	opts := &git.CloneOptions{URL: r.URL, Tags: git.NoTags}
	switch {
	case r.Ref == "":
	case source.IsCommit(r.Ref):
		opts.Tags = git.AllTags
	default:
		refs, err := source.LsRemote(ctx, r.URL)
		if err != nil {
			return plumbing.ZeroHash, errors.New(strings.ReplaceAll(err.Error(), r.URL, redact(r.URL)))
		}
		found := source.FindRef(refs, r.Ref)
		if found == nil {
			return plumbing.ZeroHash, fmt.Errorf("ref %q is neither a branch nor a tag of %s", r.Ref, redact(r.URL))
		}
		opts.ReferenceName, opts.SingleBranch = found.Name(), true
	}
	repo, err := git.PlainCloneContext(ctx, dir, false, opts)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("clone %s: %w", redact(r.URL), err)
	}
	if source.IsCommit(r.Ref) {
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
