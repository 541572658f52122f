package fleet

import (
	"strings"
	"testing"
)

// wantErr checks err against want: "" for no error, else a part of the message.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one containing %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q, want one containing %q", what, err, want)
	}
}

func TestCheckRef(t *testing.T) {
	for _, tc := range []struct{ ref, err string }{
		{"main", ""},
		{"v1.4.2", ""},
		{"feature/voice-bar", ""},
		{"release-2024.1", ""},
		{"1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", ""},
		{"1a2b3c4", ""}, // a short hex string is a branch or tag name, not a commit
		{"", "is not a valid git ref"},
		{"-main", "is not a valid git ref"},
		{"/main", "is not a valid git ref"},
		{"main/", "is not a valid git ref"},
		{"main.lock", "is not a valid git ref"},
		{"a..b", "is not a valid git ref"},
		{"main@{1}", "is not a valid git ref"},
		{"a//b", "is not a valid git ref"},
		{"bad ref", "a character git refuses"},
		{"main\n", "a character git refuses"},
		{"main~1", "a character git refuses"},
		{"main^", "a character git refuses"},
		{"a:b", "a character git refuses"},
		{"what?", "a character git refuses"},
		{"v1*", "a character git refuses"},
		{"v[1]", "a character git refuses"},
		{`a\b`, "a character git refuses"},
	} {
		wantErr(t, "CheckRef("+tc.ref+")", CheckRef(tc.ref), tc.err)
	}
}

func TestCheckRepoURL(t *testing.T) {
	for _, tc := range []struct{ url, err string }{
		{"https://forge.ourworld.tf/lhumina_code/hero_books.git", ""},
		{"http://127.0.0.1:8080/hero_books.git", ""},
		{"ssh://git@forge.example:2222/ops/fleet.git", ""},
		{"git://forge.example/ops/fleet.git", ""},
		{"file:///srv/git/fleet.git", ""},
		{"git@forge.example:ops/fleet.git", ""},
		{"https:///ops/fleet.git", "has no host"},
		{"ssh:///ops/fleet.git", "has no host"},
		{"ftp://forge.example/fleet.git", `scheme "ftp" is not one of`},
		{"https://forge.example/a b.git", "holds white space"},
		{"https://forge.example/a.git\n", "holds white space"},
		{"--upload-pack=touch x", "holds white space"},
		{"--upload-pack=x", "starts with -"},
		{"fleet.git", "is not a git URL"},
		{"@forge.example:ops/fleet.git", "is not a git URL"},
		{"git@forge.example", "is not a git URL"},
		{"", "is not a git URL"},
	} {
		wantErr(t, "CheckRepoURL("+tc.url+")", CheckRepoURL(tc.url), tc.err)
	}
}
