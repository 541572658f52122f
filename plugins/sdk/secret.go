package sdk

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/herofleet/herofleet/plugins"
)

// MaxSecretBytes bounds a secret file.
const MaxSecretBytes = 64 << 10

var secretNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ReadSecret reads the secret called name from the agent's secrets directory (call.Secrets), without its trailing
// newline. The value must never be logged or returned in a Result's messages; errors name the secret, not its
// content.
func ReadSecret(call plugins.Call, name string) (string, error) {
	if !secretNameRE.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("secret name %q does not match %s", name, secretNameRE)
	}
	if call.Secrets == "" {
		return "", fmt.Errorf("secret %s: the agent has no secrets directory", name)
	}
	path := filepath.Join(call.Secrets, name)
	if _, err := statRegular(path); err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	if len(b) > MaxSecretBytes {
		return "", fmt.Errorf("secret %s is larger than %d bytes", name, MaxSecretBytes)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
