package fleet

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// commitRE is a full commit hash: a ref written so is a commit, never a branch or tag.
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// CheckRepoURL accepts what go-git can clone: https, http, ssh, git and file URLs, and scp-like git@host:path.
func CheckRepoURL(s string) error {
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("%q holds white space", s)
	}
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("%q starts with -", s)
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		switch u.Scheme {
		case "https", "http", "ssh", "git":
			if u.Host == "" {
				return fmt.Errorf("%q has no host", s)
			}
			return nil
		case "file":
			return nil
		}
		return fmt.Errorf("scheme %q is not one of https, http, ssh, git, file", u.Scheme)
	}
	if user, rest, ok := strings.Cut(s, "@"); ok && user != "" && strings.Contains(rest, ":") {
		return nil // scp-like: git@forge:org/repo.git
	}
	return fmt.Errorf("%q is not a git URL (https://…, ssh://…, git@host:path, file://…)", s)
}

// CheckRef accepts what git accepts as a branch or tag name, or a 40-hex commit.
func CheckRef(ref string) error {
	switch {
	case commitRE.MatchString(ref):
		return nil
	case ref == "", strings.HasPrefix(ref, "-"), strings.HasPrefix(ref, "/"), strings.HasSuffix(ref, "/"), strings.HasSuffix(ref, ".lock"):
		return fmt.Errorf("%q is not a valid git ref", ref)
	case strings.Contains(ref, ".."), strings.Contains(ref, "@{"), strings.Contains(ref, "//"):
		return fmt.Errorf("%q is not a valid git ref", ref)
	case strings.ContainsAny(ref, " \t\r\n~^:?*[\\"):
		return fmt.Errorf("%q holds a character git refuses in a ref", ref)
	}
	return nil
}
