package fleet

import "regexp"

// NamePattern is the rule for app, binary, role, host and plugin names.
const NamePattern = `^[a-z0-9][a-z0-9_-]{0,62}$`

var (
	nameRE    = regexp.MustCompile(NamePattern)
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ValidName says whether s is a valid name for an app, binary, role, host or plugin.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidSHA256 says whether s is a sha256 as the fleet writes it: 64 lowercase hex digits.
func ValidSHA256(s string) bool { return sha256RE.MatchString(s) }

// ValidEnvName says whether s can name an environment variable.
func ValidEnvName(s string) bool { return envNameRE.MatchString(s) }
