package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Tool finds a command the test needs, e.g. Tool(t, "chromium", "chromium") or Tool(t, "prometheus", "prometheus").
func Tool(t testing.TB, command, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(command); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true (apt-get install -y %s)", command, debianPackage)
	}
	t.Skipf("%s not installed (apt-get install -y %s); skipping", command, debianPackage)
	return ""
}

// New starts a headless Chromium with a fresh profile and returns its context; it is stopped when the test ends.
// The flags are those that work as root in a sandbox with no network: no sandbox, no GPU, and none of Chromium's
// background connections (refused here, and slow to time out).
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Tool(t, "chromium", "chromium")),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The browser starts under a context without a timeout: a timeout here would kill it later.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
