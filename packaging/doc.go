// Package packaging holds what installs herofleet on a VM: the agent's service files for systemd and zinit
// (rendered for a binary and a config path, by `herofleet bootstrap` and by the release), and the release build
// that turns one commit into reproducible archives, a Debian package and their SHA256SUMS.
package packaging
