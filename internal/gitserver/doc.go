// Package gitserver serves a directory of bare git repositories over smart HTTP on loopback, through the system's
// `git http-backend` run as CGI. Tests and `herofleet demo` use it as the forge: it can be stopped and started again
// on the same address to play "the git server is down". It also writes commits into its repositories with go-git,
// so a test can say "commit these files to the fleet repo" in one call.
package gitserver
