package agenttest

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// TestappPackage is the test app: called as "testapp build OUT..." it is an app's build (it copies itself to every
// OUT, fails when the tree holds FAIL_BUILD, pauses for $SLOW_BUILD, holds while the file $BUILD_GATE exists);
// under any other name it is one of the app's binaries, serving /health and / on --listen (see its source for the
// flags that make it misbehave or hold it at a gate file).
const TestappPackage = "github.com/herofleet/herofleet/agent/testdata/testapp"

// BuildTestapp builds the test app into dir and returns its path. TestMain calls it once per test binary.
func BuildTestapp(dir string) (string, error) {
	path := filepath.Join(dir, "testapp")
	out, err := exec.Command("go", "build", "-o", path, TestappPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build testapp: %w\n%s", err, out)
	}
	return path, nil
}
