package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// allowedSigner is one line of an allowed_signers file.
type allowedSigner struct {
	principals []string
	namespaces []string // empty: any
	key        ssh.PublicKey
}

// parseAllowedSigners reads git's allowed_signers format: "principals [options] keytype key [comment]".
func parseAllowedSigners(data []byte) ([]allowedSigner, error) {
	var out []allowedSigner
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := splitQuoted(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("line %d: want principals, key type and key", i+1)
		}
		s := allowedSigner{principals: strings.Split(fields[0], ",")}
		rest := fields[1:]
		if !isKeyType(rest[0]) {
			for _, opt := range strings.Split(rest[0], ",") {
				name, value, _ := strings.Cut(opt, "=")
				switch strings.ToLower(name) {
				case "namespaces":
					s.namespaces = strings.Split(strings.Trim(value, `"`), ",")
				case "cert-authority":
					return nil, fmt.Errorf("line %d: cert-authority keys are not supported", i+1)
				case "valid-after", "valid-before":
					return nil, fmt.Errorf("line %d: %s is not supported: list only keys that are valid now", i+1, name)
				default:
					return nil, fmt.Errorf("line %d: unknown option %q", i+1, name)
				}
			}
			rest = rest[1:]
		}
		if len(rest) < 2 {
			return nil, fmt.Errorf("line %d: want a key type and a key", i+1)
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(rest[0] + " " + rest[1]))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		s.key = key
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("no signers")
	}
	return out, nil
}

func isKeyType(s string) bool {
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-") || strings.HasPrefix(s, "sk-")
}

// splitQuoted splits on spaces outside double quotes.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ' ' || r == '\t') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// signatureKind tells an SSH signature from an OpenPGP one; "" when there is none.
func signatureKind(sig string) string {
	switch {
	case strings.TrimSpace(sig) == "":
		return ""
	case strings.Contains(sig, "-----BEGIN SSH SIGNATURE-----"):
		return "ssh"
	}
	return "openpgp"
}

// verifySSH checks an SSH signature over the commit as git signs it, in git's namespace, by an allowed key.
func (p *Policy) verifySSH(c *object.Commit) (string, error) {
	sig, err := sshsig.Unarmor([]byte(c.PGPSignature))
	if err != nil {
		return "", fmt.Errorf("unreadable SSH signature: %w", err)
	}
	if sig.Namespace != "git" {
		return "", fmt.Errorf("SSH signature for namespace %q, not git", sig.Namespace)
	}
	msg, err := unsignedBytes(c)
	if err != nil {
		return "", err
	}
	if err := sshsig.Verify(bytes.NewReader(msg), sig, sig.PublicKey, sig.HashAlgorithm, "git"); err != nil {
		return "", fmt.Errorf("bad SSH signature: %w", err)
	}
	want := sig.PublicKey.Marshal()
	for _, s := range p.signers {
		if bytes.Equal(s.key.Marshal(), want) && (len(s.namespaces) == 0 || slices.Contains(s.namespaces, "git")) {
			return "ssh:" + strings.Join(s.principals, ","), nil
		}
	}
	return "", fmt.Errorf("SSH signature by %s, which is not an allowed signer", ssh.FingerprintSHA256(sig.PublicKey))
}

// unsignedBytes is the commit object as it was before its signature was added: what the signature covers.
func unsignedBytes(c *object.Commit) ([]byte, error) {
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		return nil, err
	}
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// checkKeyring makes sure a key file holds at least one armored public key, so a typo shows at start, not at
// the first refused commit.
func checkKeyring(armored string) error {
	ents, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armored))
	if err != nil {
		return err
	}
	if len(ents) == 0 {
		return errors.New("no keys")
	}
	return nil
}

func readFull(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return n, nil
	}
	return n, err
}
