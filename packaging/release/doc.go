// Command release builds herofleet's release files from the working tree: per OS/arch a reproducible tar.gz and
// a Debian package, and SHA256SUMS. `make release` runs it (packaging/release.mk).
//
//	go run ./packaging/release -version v1.4.0 -commit $(git rev-parse HEAD) -out dist
package main
