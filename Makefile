# batchxray — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/batchxray
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOLANGCI_LINT_VERSION := v2.15.0

.PHONY: help build test lint demo bench release

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/batchxray
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/batchxray

# The end-to-end package takes about 4 minutes on 2 cores and twice that on
# a loaded machine: go test's default 10-minute limit per package is too
# close to be a limit only bugs reach.
test: ## run every test with the race detector (end-to-end scripts included)
	$(GO) test -race -count=1 -timeout 30m ./...

lint: ## gofmt, go vet, go mod tidy check, golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@cp go.mod /tmp/batchxray-go.mod.bak; cp go.sum /tmp/batchxray-go.sum.bak; \
	  $(GO) mod tidy; \
	  if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changes go.mod/go.sum: run it and commit"; \
	    git --no-pager diff -- go.mod go.sum | head -40; cp /tmp/batchxray-go.mod.bak go.mod; cp /tmp/batchxray-go.sum.bak go.sum; exit 1; fi
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

demo: build ## run the whole path on the local stand-in: up, submit --wait, trace, array job, status, down
	@./scripts/demo.sh $(BIN)

bench: ## run the benchmarks (compare runs with benchstat)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.txt

release: ## cross-build batchxray (linux, darwin, windows) and the job image (OCI layout) into dist/, with checksums
	VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' GO='$(GO)' ./scripts/release.sh
