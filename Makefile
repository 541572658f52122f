# herofleet — build, test and demo. `make demo` and `make test` work on a fresh Debian machine with Go.
SHELL := /bin/bash
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PLUGINS := seed-git config-file
# Debian packages the tests drive for real: chromium (cockpit and runbook pages), prometheus (scrapes /metrics),
# systemd (systemd-analyze verify of the bootstrap unit), git (http-backend serves repos on loopback),
# age (proves that secrets interoperate with Debian's age).
DEBS := chromium prometheus systemd git age
TEST_TIMEOUT ?= 14m
# CI passes TESTFLAGS=-count=1: results that depend on Chromium, Prometheus or git must not come from the test cache.
TESTFLAGS ?=

.PHONY: all build deps test test-short demo demo-check bench fuzz faults rollout-safety security lab lab-deps lint vet fmt clean

all: build

## build: herofleet and the shipped plugins into bin/ (plugins sit beside the agent)
build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/herofleet ./cmd/herofleet
	@for p in $(PLUGINS); do $(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/herofleet-plugin-$$p ./cmd/herofleet-plugin-$$p || exit 1; done

## deps: Go modules, and the Debian packages the tests use (installed when missing, as root)
deps:
	$(GO) mod download
	@missing=""; for d in $(DEBS); do dpkg -s $$d >/dev/null 2>&1 || missing="$$missing $$d"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "missing Debian packages (run as root or install them):$$missing" >&2; exit 1; fi; \
	fi

## test: vet, then every test with the race detector (what CI runs). Packages run four at a time: most tests wait
## on processes, git and health checks rather than on the two cores; go test's own vet is off (go vet ran above).
test: deps build
	$(GO) vet ./...
	$(GO) tool actionlint -config-file .forgejo/actionlint.yaml .forgejo/workflows/*.yml
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi
	HEROFLEET_BIN=$(CURDIR)/$(BIN) $(GO) test -race -p 4 -vet=off -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

## test-short: the fast tests only
test-short:
	$(GO) test -short ./...

## demo: the whole flow on this machine, no network: an admin and a tester agent converge; Ctrl-C stops all
demo: build
	$(BIN)/herofleet demo

## demo-check: converge, check every URL, stop, exit 0
demo-check: build
	$(BIN)/herofleet demo --check

## bench: the benchmarks under bench/ (see bench/README.md)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./bench/fleet/

## faults: the fault-injection suite against a real agent process, slow rows included (make test runs the fast
## ones); writes docs/faults.md, one row per fault (see faults/doc.go)
faults:
	FAULTS=all FAULTS_DOC=$(CURDIR)/docs/faults.md $(GO) test -count=1 -timeout 20m -v ./faults/

## rollout-safety: the rollout gate's adversarial suite against a real Prometheus, slow cases included (make test
## runs the fast ones); writes docs/rollout-safety.md, one row per case (see rolloutsafety/doc.go)
rollout-safety:
	ROLLOUT_SAFETY=all ROLLOUT_SAFETY_DOC=$(CURDIR)/docs/rollout-safety.md $(GO) test -count=1 -timeout 10m -parallel 4 -v ./rolloutsafety/

## security: the security suite: attacks on a real agent process, the CLI and real HTTP (make test runs them too, all
## fast); writes docs/security.md, one row per attack (see security/doc.go)
security: build
	HEROFLEET_BIN=$(CURDIR)/$(BIN) SECURITY_DOC=$(CURDIR)/docs/security.md $(GO) test -count=1 -timeout 15m -v ./security/

## lab: real Debian 12 machines booted here (mmdebstrap image, systemd-nspawn, a bridge and a forge on it) and the
## lab's scenarios against them; writes docs/lab.md, one row per scenario (see lab/doc.go). Root only.
LAB_DIST := $(CURDIR)/$(BIN)/lab-dist
LAB_DEBS := mmdebstrap systemd-container qemu-system-x86 qemu-utils e2fsprogs
lab: lab-deps build
	rm -rf $(LAB_DIST)
	$(MAKE) release RELEASE_TARGETS=linux/amd64 RELEASE_OUT=$(LAB_DIST)
	LAB=1 LAB_DIST=$(LAB_DIST) HEROFLEET_BIN=$(CURDIR)/$(BIN) LAB_DOC=$(CURDIR)/docs/lab.md \
	  $(GO) test -count=1 -timeout 25m -v -run TestLab ./lab/

lab-deps:
	@missing=""; for d in $(LAB_DEBS); do dpkg -s $$d >/dev/null 2>&1 || missing="$$missing $$d"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi

## fuzz: fuzz the fleet loader (FUZZTIME=5m for a longer run)
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeApp -fuzztime $(FUZZTIME) ./fleet/

## lint: vet and actionlint (both workflows, with Forgejo's runner labels)
lint vet:
	$(GO) vet ./...
	$(GO) tool actionlint -config-file .forgejo/actionlint.yaml .forgejo/workflows/*.yml

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) dist

# make release: reproducible archives, .deb and SHA256SUMS per OS/arch into dist/
include packaging/release.mk
