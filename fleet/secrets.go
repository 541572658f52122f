package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"filippo.io/age"
)

// SecretsDir is the fleet repo's folder of encrypted secrets: secrets/<host>/<name>.age.
const SecretsDir = "secrets"

// SecretExt is the extension of an encrypted secret.
const SecretExt = ".age"

// SecretsMeta is fleet.yaml's secrets: who besides each host can read every secret.
type SecretsMeta struct {
	// Recipients are the operators' age recipients (age1…): every secret is encrypted to them too.
	Recipients []string `yaml:"recipients" json:"recipients,omitempty" jsonschema:"description=operators' age recipients (age1…)"`
}

// SecretFile is one encrypted secret of the fleet repo. Data is age ciphertext, never a value.
type SecretFile struct {
	File string // secrets/<host>/<name>.age
	Host string
	Name string
	Data []byte
}

// SecretPath is the fleet-relative file of a host's secret.
func SecretPath(host, name string) string { return SecretsDir + "/" + host + "/" + name + SecretExt }

// SecretsOf returns the secrets of one host, sorted by name.
func (f *Fleet) SecretsOf(host string) []SecretFile {
	var out []SecretFile
	for _, s := range f.Secrets {
		if s.Host == host {
			out = append(out, s)
		}
	}
	return out
}

// RecipientsOf is who a host's secrets are encrypted to: the host's recipient, then the operators'. Empty when the
// host has no recipient.
func (f *Fleet) RecipientsOf(host string) []string {
	h := f.Hosts[host]
	if h == nil || h.Recipient == "" {
		return nil
	}
	return append([]string{h.Recipient}, f.Meta.Secrets.Recipients...)
}

// ageBinaryHeader and ageArmorHeader start an age file (age-encryption.org/v1), binary or ASCII-armored.
const (
	ageBinaryHeader = "age-encryption.org/v1\n"
	ageArmorHeader  = "-----BEGIN AGE ENCRYPTED FILE-----"
)

// IsAgeFile says whether data starts like an age file, binary or armored (leading whitespace is allowed before
// the armor, as age allows it).
func IsAgeFile(data []byte) bool {
	return bytes.HasPrefix(data, []byte(ageBinaryHeader)) ||
		bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(ageArmorHeader))
}

// decodeSecret checks one file under secrets/: its place (secrets/<host>/<name>.age), its name and that it is an
// age file. The host is checked against the fleet in validateSecrets.
func decodeSecret(name string, data []byte, e *errs) any {
	rest := strings.TrimPrefix(name, SecretsDir+"/")
	host, base, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(base, "/") {
		e.add(name, Pos{}, "secrets/ holds one folder per host: secrets/<host>/<name>%s", SecretExt)
		return nil
	}
	stem, ext := strings.TrimSuffix(base, path.Ext(base)), path.Ext(base)
	if ext == IssuedIndexExt && ValidName(stem) && strings.HasSuffix(stem, "-hashes") {
		if _, err := ParseIssuedIndex(name, data); err != nil {
			var fe Errors
			if errors.As(err, &fe) {
				e.list = append(e.list, fe...)
			}
		}
		return nil
	}
	switch {
	case ext != SecretExt:
		e.add(name, Pos{}, "secrets/%s/ holds only %s files (encrypt it: herofleet secrets set %s NAME)", host, SecretExt, host)
		return nil
	case !ValidName(stem):
		e.add(name, Pos{}, "secret name %q is not a valid name (%s)", stem, NamePattern)
		return nil
	case len(data) > maxFileSize:
		e.add(name, Pos{}, "file is %d bytes; at most %d", len(data), maxFileSize)
		return nil
	case !IsAgeFile(data):
		e.add(name, Pos{Line: 1, Col: 1}, "not an age file (it starts with neither %q nor %q): a secret is never committed in clear",
			strings.TrimSpace(ageBinaryHeader), ageArmorHeader)
		return nil
	}
	return SecretFile{File: name, Host: host, Name: stem, Data: data}
}

// validateSecrets checks what only the whole fleet knows: each secrets/<host>/ names a host with a recipient,
// and every recipient parses.
func validateSecrets(f *Fleet, e *errs) {
	for i, r := range f.Meta.Secrets.Recipients {
		if _, err := age.ParseX25519Recipient(r); err != nil {
			e.add(f.Meta.File, f.Meta.pos.at(fmt.Sprintf("secrets.recipients[%d]", i)), "secrets.recipients[%d]: not an age X25519 recipient (age1…)", i)
		}
	}
	for _, name := range sortedKeys(f.Hosts) {
		h := f.Hosts[name]
		if h.Recipient == "" {
			continue
		}
		if _, err := age.ParseX25519Recipient(h.Recipient); err != nil {
			e.add(h.File, h.pos.at("recipient"), "recipient: not an age X25519 recipient (age1…; herofleet recipient --identity FILE prints it)")
		}
	}
	slices.SortFunc(f.Secrets, func(a, b SecretFile) int { return strings.Compare(a.File, b.File) })
	told := map[string]bool{}
	for _, s := range f.Secrets {
		h := f.Hosts[s.Host]
		switch {
		case h == nil:
			e.add(s.File, Pos{}, "secret of unknown host %q (no hosts/%s.yaml)%s", s.Host, s.Host, suggest(s.Host, sortedKeys(f.Hosts)))
		case h.Recipient == "" && !h.pos.broken() && !told[s.Host]:
			told[s.Host] = true
			e.add(h.File, h.pos.at(""), "host %q has secrets (%s…) but no recipient: add recipient: age1…", s.Host, s.File)
		}
	}
}

// IssuedIndexExt marks the clear half of a credential issued by herofleet secrets issue: the sha256 of each host's
// token, kept beside the engine's encrypted copy so that issuing needs no identity.
const IssuedIndexExt = ".sha256"

// IssuedIndexPath is the index of credential name, kept in the engine host's folder.
func IssuedIndexPath(engineHost, name string) string {
	return SecretsDir + "/" + engineHost + "/" + name + "-hashes" + IssuedIndexExt
}

// IssuedLine is one line of an issued index: "<sha256> <host>" or "revoked <host>".
type IssuedLine struct {
	Host, SHA256 string
	Revoked      bool
}

// ParseIssuedIndex reads an issued index; every malformed line is an Error with its position.
func ParseIssuedIndex(file string, data []byte) ([]IssuedLine, error) {
	var e errs
	var out []IssuedLine
	if len(data) > maxFileSize {
		e.add(file, Pos{}, "file is %d bytes; at most %d", len(data), maxFileSize)
		return nil, e.err()
	}
	seen := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		at := Pos{Line: i + 1, Col: 1}
		first, host, ok := strings.Cut(line, " ")
		switch {
		case !ok || !ValidName(host):
			e.add(file, at, "want \"<sha256> <host>\" or \"revoked <host>\"")
			continue
		case first == "revoked":
			out = append(out, IssuedLine{Host: host, Revoked: true})
		case ValidSHA256(first):
			out = append(out, IssuedLine{Host: host, SHA256: first})
		default:
			e.add(file, at, "the first word is neither a sha256 (64 lowercase hex digits) nor \"revoked\"")
			continue
		}
		if prev, dup := seen[host]; dup {
			e.add(file, at, "host %q is listed twice (line %d)", host, prev)
		}
		seen[host] = i + 1
	}
	return out, e.err()
}
