// Package browsertest starts the real headless Chromium (Debian's chromium) that herofleet's page tests drive: the
// cockpit, the runbook site. Under CI=true a missing browser or tool fails the test (make deps installs them);
// elsewhere it skips with the install command.
package browsertest
