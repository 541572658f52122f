package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/storage/memory"
)

// A fixed recipient (age-keygen output): validation needs only its form.
const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

const testCiphertext = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n-----END AGE ENCRYPTED FILE-----\n"

// A git commit's secrets/<host>/<name>.age load as ciphertext of their host; the same rules as a directory refuse
// the rest with the file named.
func TestLoadCommitSecrets(t *testing.T) {
	repo, err := git.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	good := commitFiles(t, repo, map[string]string{
		"fleet.yaml":              "name: t\n",
		"roles/tester.yaml":       "preinstalled: []\n",
		"hosts/h1.yaml":           "role: tester\nrecipient: " + testRecipient + "\n",
		"secrets/h1/token.age":    testCiphertext,
		"secrets/h1/a-hashes.age": "age-encryption.org/v1\n-> X25519 x\n",
	})
	f, err := LoadCommit(repo, good)
	if err != nil {
		t.Fatal(err)
	}
	got := f.SecretsOf("h1")
	if len(got) != 2 || got[0].Name != "a-hashes" || got[1].Name != "token" || string(got[1].Data) != testCiphertext {
		t.Errorf("SecretsOf(h1) = %+v", got)
	}
	if rs := f.RecipientsOf("h1"); len(rs) != 1 || rs[0] != testRecipient {
		t.Errorf("RecipientsOf = %v", rs)
	}
	bad := commitFiles(t, repo, map[string]string{"secrets/h1/clear.age": "hunter2\n", "secrets/h9/x.age": testCiphertext})
	_, err = LoadCommit(repo, bad)
	var fe Errors
	if !errors.As(err, &fe) || len(fe) != 2 ||
		!strings.Contains(err.Error(), "secrets/h1/clear.age:1:1: not an age file") ||
		!strings.Contains(err.Error(), `secrets/h9/x.age: secret of unknown host "h9"`) {
		t.Errorf("bad commit: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("the error repeats a file's content")
	}
	dot := commitFiles(t, repo, map[string]string{
		"secrets/h1/clear.age": "", "secrets/h9/x.age": "", // deleted
		"secrets/h1/.env": "DB_PASSWORD=hunter2\n", "secrets/.gitkeep": "\n",
	})
	_, err = LoadCommit(repo, dot)
	if !errors.As(err, &fe) || len(fe) != 2 ||
		!strings.Contains(err.Error(), "secrets/h1/.env: secrets/h1/ holds only .age files") ||
		!strings.Contains(err.Error(), "secrets/.gitkeep: secrets/ holds one folder per host") {
		t.Fatalf("dotfiles under secrets/: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("the error repeats a file's content")
	}
}

func TestIsAgeFile(t *testing.T) {
	for in, want := range map[string]bool{
		"age-encryption.org/v1\n-> X25519 abc\n": true,
		testCiphertext:                           true,
		"\n  " + testCiphertext:                  true,
		"age-encryption.org/v2\n":                false,
		"AGE-SECRET-KEY-1QQQ":                    false,
		"":                                       false,
	} {
		if got := IsAgeFile([]byte(in)); got != want {
			t.Errorf("IsAgeFile(%q) = %v", in, got)
		}
	}
}
