package gitserver

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Signer signs a commit's bytes and returns the armored signature, as `git commit -S` stores it.
type Signer interface {
	Sign(message io.Reader) ([]byte, error)
}

// OpenPGP signs with an OpenPGP key (a private entity).
func OpenPGP(e *openpgp.Entity) Signer { return pgpSigner{e} }

type pgpSigner struct{ e *openpgp.Entity }

func (s pgpSigner) Sign(m io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, s.e, m, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CommitSigned is Commit with the commit signed by signer (nil: unsigned).
func (s *Server) CommitSigned(name, branch, msg string, files Files, signer Signer) (string, error) {
	return s.CommitOn(name, branch, "", msg, files, signer)
}

// CommitOn writes a commit on branch whose parent is parent (a hash; "" for the branch's tip) and moves the branch
// to it: with a parent behind the tip, this is a force-push of a sibling commit.
func (s *Server) CommitOn(name, branch, parent, msg string, files Files, signer Signer) (string, error) {
	r, err := s.Init(name)
	if err != nil {
		return "", err
	}
	return commitOn(r, branch, parent, msg, files, signer)
}

// commitOn writes files as the whole tree of a commit on branch (parent "": the branch's tip, if any), signed by
// signer when it is not nil, and moves the branch to it.
func commitOn(r *git.Repository, branch, parent, msg string, files Files, signer Signer) (string, error) {
	return commitOnAt(r, branch, parent, msg, files, signer, time.Now())
}

// CommitAt is Commit with a fixed author and committer time: a first commit of the same files, message and time
// has the same hash on every run (the demo's app repos, which the example fleet's lock names).
func (s *Server) CommitAt(name, branch, msg string, files Files, when time.Time) (string, error) {
	r, err := s.Init(name)
	if err != nil {
		return "", err
	}
	return commitOnAt(r, branch, "", msg, files, nil, when)
}

func commitOnAt(r *git.Repository, branch, parent, msg string, files Files, signer Signer, when time.Time) (string, error) {
	st := r.Storer
	tree, err := writeTree(st, files, "")
	if err != nil {
		return "", err
	}
	ref := plumbing.NewBranchReferenceName(branch)
	var parents []plumbing.Hash
	switch {
	case parent != "":
		parents = append(parents, plumbing.NewHash(parent))
	default:
		if cur, err := st.Reference(ref); err == nil {
			parents = append(parents, cur.Hash())
		}
	}
	sig := object.Signature{Name: "herofleet test", Email: "test@herofleet.invalid", When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents}
	if signer != nil {
		unsigned := &plumbing.MemoryObject{}
		if err := c.Encode(unsigned); err != nil {
			return "", fmt.Errorf("encode commit: %w", err)
		}
		rd, err := unsigned.Reader()
		if err != nil {
			return "", err
		}
		armored, err := signer.Sign(rd)
		rd.Close()
		if err != nil {
			return "", fmt.Errorf("sign commit: %w", err)
		}
		c.PGPSignature = string(armored)
	}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", fmt.Errorf("encode commit: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("store commit: %w", err)
	}
	if err := st.SetReference(plumbing.NewHashReference(ref, h)); err != nil {
		return "", fmt.Errorf("update %s: %w", ref, err)
	}
	return h.String(), nil
}
