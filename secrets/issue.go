package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/herofleet/herofleet/fleet"
)

// IssueOptions says which credential to hand out, to whom, and which engine checks it.
type IssueOptions struct {
	Name   string   // the secret each host of Role gets: secrets/<host>/<Name>.age
	Role   string   // every host of this role gets its own token
	For    string   // the engine's host: it gets <Name>-hashes, the sha256 of every valid token
	Revoke []string // hosts whose token is withdrawn (and never re-issued until their line leaves the index)
}

// IssueResult says what Issue changed, by host name: never a token.
type IssueResult struct {
	Issued, Revoked, Skipped []string
	Dropped                  []string // hosts whose hash left the list: no longer of the role, or no token file and no recipient
	Changed                  bool     // false: the fleet dir is untouched
}

// HashesName is the secret an engine's host gets for a credential: one "<sha256> <host>" line per valid token.
func HashesName(name string) string { return name + "-hashes" }

// Issue gives every host of opts.Role that lacks one a random token, encrypted to it, and the engine's host the
// set of the valid tokens' sha256 as secret <Name>-hashes. It reads no secret: the sha256 set is kept in the
// clear beside the engine's copy, in fleet.IssuedIndexPath (a sha256 of 256 random bits discloses nothing), so
// fleet CI can run Issue with recipients only. Nothing is written when nothing changes (age output is random, a
// rewrite would be a needless commit).
func Issue(f *fleet.Fleet, dir string, opts IssueOptions) (IssueResult, error) {
	var res IssueResult
	if err := checkIssue(f, opts); err != nil {
		return res, err
	}
	indexFile := fleet.IssuedIndexPath(opts.For, opts.Name)
	idx, err := readIndex(dir, indexFile)
	if err != nil {
		return res, err
	}
	for _, h := range opts.Revoke {
		if !idx.Revoked[h] {
			idx.Revoked[h], res.Changed = true, true
			res.Revoked = append(res.Revoked, h)
		}
		delete(idx.Hashes, h)
		if err := removeSecret(dir, h, opts.Name); err != nil {
			return res, err
		}
	}
	members := map[string]bool{}
	for _, h := range f.HostNames() {
		if f.Hosts[h].Role != opts.Role || idx.Revoked[h] {
			continue
		}
		members[h] = true
		_, statErr := os.Stat(filepath.Join(dir, filepath.FromSlash(fleet.SecretPath(h, opts.Name))))
		if len(f.RecipientsOf(h)) == 0 {
			res.Skipped = append(res.Skipped, h)
			// No token file and none can be issued: a hash left in the list would be valid for a token nobody
			// should hold any more.
			if statErr != nil && idx.Hashes[h] != "" {
				delete(idx.Hashes, h)
				res.Dropped, res.Changed = append(res.Dropped, h), true
			}
			continue
		}
		if idx.Hashes[h] != "" && statErr == nil {
			continue
		}
		token, err := newToken()
		if err != nil {
			return res, err
		}
		if _, err := Set(f, dir, h, opts.Name, []byte(token)); err != nil {
			return res, err
		}
		sum := sha256.Sum256([]byte(token))
		idx.Hashes[h] = hex.EncodeToString(sum[:])
		res.Issued, res.Changed = append(res.Issued, h), true
	}
	for _, h := range slices.Sorted(maps.Keys(idx.Hashes)) {
		if !members[h] {
			delete(idx.Hashes, h)
			res.Dropped, res.Changed = append(res.Dropped, h), true
			if f.Hosts[h] == nil {
				if err := removeSecret(dir, h, opts.Name); err != nil {
					return res, err
				}
			}
		}
	}
	hashesFile := filepath.Join(dir, filepath.FromSlash(fleet.SecretPath(opts.For, HashesName(opts.Name))))
	if _, err := os.Stat(hashesFile); err != nil {
		res.Changed = true
	}
	if !res.Changed {
		return res, nil
	}
	if err := writeFile(filepath.Join(dir, filepath.FromSlash(indexFile)), []byte(idx.format(true))); err != nil {
		return res, err
	}
	_, err = Set(f, dir, opts.For, HashesName(opts.Name), []byte(idx.format(false)))
	return res, err
}

func checkIssue(f *fleet.Fleet, opts IssueOptions) error {
	switch {
	case !fleet.ValidName(opts.Name) || !fleet.ValidName(HashesName(opts.Name)):
		return fmt.Errorf("secret name %q is not a valid name (%s)", opts.Name, fleet.NamePattern)
	case f.Roles[opts.Role] == nil:
		return fmt.Errorf("unknown role %q", opts.Role)
	case f.Hosts[opts.For] == nil:
		return fmt.Errorf("unknown host %q (--for names the engine's host, which needs a hosts file)", opts.For)
	case len(f.RecipientsOf(opts.For)) == 0:
		return fmt.Errorf("host %q has no recipient: its hashes could not be encrypted to it", opts.For)
	}
	for _, h := range opts.Revoke {
		if !fleet.ValidName(h) {
			return fmt.Errorf("--revoke %q is not a host name", h)
		}
	}
	return nil
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func removeSecret(dir, host, name string) error {
	err := os.Remove(filepath.Join(dir, filepath.FromSlash(fleet.SecretPath(host, name))))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", fleet.SecretPath(host, name), err)
	}
	return nil
}

// index is the clear half of an issued credential: each host's token sha256, and the revoked hosts.
type index struct {
	Hashes  map[string]string
	Revoked map[string]bool
}

func readIndex(dir, rel string) (*index, error) {
	idx := &index{Hashes: map[string]string{}, Revoked: map[string]bool{}}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	lines, err := fleet.ParseIssuedIndex(rel, data)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if l.Revoked {
			idx.Revoked[l.Host] = true
		} else {
			idx.Hashes[l.Host] = l.SHA256
		}
	}
	return idx, nil
}

// format writes the index (withRevoked) or the engine's hash list (valid tokens only), sorted by host.
func (idx *index) format(withRevoked bool) string {
	var b strings.Builder
	if withRevoked {
		b.WriteString("# herofleet secrets issue: sha256 of each host's token (never a token); edit with --revoke\n")
	}
	for _, h := range slices.Sorted(maps.Keys(idx.Hashes)) {
		fmt.Fprintf(&b, "%s %s\n", idx.Hashes[h], h)
	}
	if withRevoked {
		for _, h := range slices.Sorted(maps.Keys(idx.Revoked)) {
			fmt.Fprintf(&b, "revoked %s\n", h)
		}
	}
	return b.String()
}
