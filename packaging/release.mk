# Included by the Makefile: `make release` builds dist/ from the working tree (VERSION, COMMIT and PLUGINS come
# from the Makefile). Two runs on one commit give byte-identical files.
.PHONY: release

## release: per OS/arch (linux/amd64, linux/arm64) a reproducible tar.gz and a .deb, and SHA256SUMS, into dist/
RELEASE_TARGETS ?= linux/amd64,linux/arm64
RELEASE_OUT ?= dist
release:
	$(GO) run ./packaging/release -version $(VERSION) -commit $(COMMIT) -plugins "$(PLUGINS)" -targets $(RELEASE_TARGETS) -out $(RELEASE_OUT)
