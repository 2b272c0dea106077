# oemtrace: `make demo` scans the bundled example, `make test` runs the whole
# suite. Both do their own set-up (Go downloads the pinned modules).
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/oemtrace/oemtrace/analyzer.Version=$(VERSION)
BIN := bin/oemtrace
FUZZTIME ?= 20s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.1

.PHONY: help build demo test test-short lint race fuzz fuzz-short bench fixtures signatures update-golden clean

help: ## show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

build: ## build bin/oemtrace
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/oemtrace

demo: build ## scan the bundled examples: a rebranded engine, a supplier SBOM, a clean one
	@echo '$$ oemtrace scan fixtures/appliance/engine.tar.gz'
	@$(BIN) scan fixtures/appliance/engine.tar.gz; code=$$?; echo "(exit code $$code: tainted)"; test $$code -eq 1
	@echo
	@echo '$$ oemtrace scan fixtures/demo/acme-threat-shield.cdx.json'
	@$(BIN) scan fixtures/demo/acme-threat-shield.cdx.json; code=$$?; echo "(exit code $$code: tainted)"; test $$code -eq 1
	@echo
	@echo '$$ oemtrace scan fixtures/demo/clean-appliance.cdx.json'
	@$(BIN) scan fixtures/demo/clean-appliance.cdx.json; code=$$?; echo "(exit code $$code: clean)"; test $$code -eq 0

test: ## run the whole suite: lint, unit, conformance, CLI scripts, race detector, short fuzzing
	$(MAKE) lint
	$(GO) test -count=1 ./...
	$(MAKE) race
	$(MAKE) fuzz-short

# The packages that run work concurrently (the scan's workers, documents
# read on every core, Syft beside the content scan, shared file handles),
# under the race detector; the whole tree takes about 14 minutes with it.
RACE_PKGS = ./analyzer/ ./analyzer/internal/fscan/ ./analyzer/internal/fstree/ ./analyzer/internal/firmware/imgfile/
race: ## the concurrent packages under the race detector (needs a C compiler)
	@cc=$$($(GO) env CC); if command -v "$$cc" >/dev/null 2>&1; then \
	  echo "$(GO) test -race -count=1 $(RACE_PKGS)"; $(GO) test -race -count=1 $(RACE_PKGS); \
	elif [ "$$CI" = true ]; then echo "race: no C compiler ($$cc) for the race detector"; exit 1; \
	else echo "race: skipped: the race detector needs a C compiler ($$cc)"; fi

lint: ## gofmt, go vet, staticcheck (pinned), go.mod tidiness
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Every fuzz target, one at a time (go test -fuzz takes one target per run).
# A run that fails without writing a crasher (go test reports "context
# deadline exceeded" when a worker is inside a slow input as time runs out)
# is run once more; a crasher always fails.
FUZZ_TARGETS = $(shell grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
fuzz: ## run every fuzz target for FUZZTIME (default 20s) each
	@set -e; for d in $(FUZZ_TARGETS); do \
	  for f in $$(grep -h '^func Fuzz' $$d/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do \
	    echo "== $$d $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$d || { \
	      test -z "$$(git status --porcelain -- $$d/testdata/fuzz)" || exit 1; \
	      echo "== $$f stopped without a crasher (a slow input at the deadline); once more"; \
	      $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$d; }; \
	  done; done

fuzz-short: ## every fuzz target for a few seconds (part of make test)
	$(MAKE) fuzz FUZZTIME=3s

bench: ## benchmarks (ingest vs Syft's decoder, matcher), one core
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -benchtime 3x ./...

fixtures: ## re-create generated fixtures (needs network: npm registry, Debian archive; installs tools with apt-get)
	fixtures/sbom/make.sh
	fixtures/appliance/make.sh
	analyzer/internal/binmeta/testdata/make.sh
	analyzer/internal/firmware/testdata/make.sh

signatures: ## re-pin rule files in signatures/rules/manifest.yaml (VERSION=... to bump)
	$(GO) run ./internal/tools/sigmanifest -dir signatures/rules $(if $(SIGVERSION),-version $(SIGVERSION))

update-golden: ## rewrite golden files after an intended output change
	$(GO) test ./... -run . -update

clean: ## remove build output
	rm -rf bin
