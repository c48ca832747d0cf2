# coldserve: every developer and CI entry point. `make test` is the one command CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO    ?= go
SWAG  := $(GO) run github.com/swaggo/swag/cmd/swag@v1.16.6
SWAG_FLAGS := init --generalInfo swagger.go --dir server,api,api/openai,api/tei --output
# apt-get needs root; use sudo when we are not root.
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Matrix-multiply backend of the cgo build: dnnl (oneDNN, faster on AVX2 CPUs) or empty for OpenBLAS.
# `go test ./...` without tags always uses OpenBLAS; `make test` tests both.
BLAS_TAGS ?= dnnl
ARGS  ?= serve --model demo

.PHONY: help deps deps-node run build test test-chart vet vet-arm64 check-docs docs bench bench-peers bench-go bench-http

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

deps: ## install the C toolchain, OpenBLAS and oneDNN headers when missing (Debian/Ubuntu, apt-get)
	@if ! command -v gcc >/dev/null 2>&1 || ! echo '#include <cblas.h>' | gcc -E - >/dev/null 2>&1 \
		|| ! echo '#include <dnnl.h>' | gcc -E - >/dev/null 2>&1; then \
		echo ">> installing gcc, OpenBLAS (libopenblas-openmp-dev) and oneDNN (libdnnl-dev) with apt-get"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends gcc libc6-dev libopenblas-openmp-dev libdnnl-dev; \
	fi

# The client interop test (cmd/coldserve TestClientInterop) runs the real OpenAI and Hugging Face
# JavaScript clients: it needs Node.js and npm.
deps-node: ## install Node.js and npm when missing (the client interop test runs the real JavaScript clients)
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo ">> installing Node.js and npm with apt-get (for the client interop test)"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends nodejs npm; \
	fi

run: deps ## serve the embedded demo model on 127.0.0.1:8080 (ARGS="serve --model DIR" for a real one)
	$(GO) run -tags '$(BLAS_TAGS)' ./cmd/coldserve $(ARGS)

build: deps ## build bin/coldserve
	$(GO) build -trimpath -tags '$(BLAS_TAGS)' -o bin/coldserve ./cmd/coldserve

vet: deps ## gofmt, then go vet every package, in the cgo, oneDNN and pure-Go builds, and for arm64
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$unformatted" ]; then \
		echo "gofmt -w these files:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags dnnl ./...
	CGO_ENABLED=0 $(GO) vet ./...
	@$(MAKE) --no-print-directory vet-arm64

# The tree must compile for arm64 too: pure Go always, and with cgo where Debian's cross
# compiler (gcc-aarch64-linux-gnu with libc6-dev-arm64-cross) is installed. Vet only type-checks, so the host's OpenBLAS
# and oneDNN headers (plain declarations), linked into a scratch include directory, stand in
# for arm64 ones.
vet-arm64: ## go vet for GOARCH=arm64, without cgo and (with aarch64-linux-gnu-gcc) with it
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
	@if ! echo '#include <stdint.h>' | aarch64-linux-gnu-gcc -E - >/dev/null 2>&1; then \
		echo "vet-arm64: skipping the arm64 cgo build: no aarch64-linux-gnu-gcc with its C library (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"; exit 0; fi; \
	inc=$$(mktemp -d) && trap 'rm -rf "$$inc"' EXIT && \
	for h in cblas.h openblas_config.h dnnl.h; do \
		ln -s "$$(echo "#include <$$h>" | gcc -H -fsyntax-only -xc - 2>&1 | awk '$$1 == "." {print $$2; exit}')" "$$inc/$$h"; done && \
	ln -s "$$(dirname "$$(readlink "$$inc/dnnl.h")")/oneapi" "$$inc/oneapi" && \
	for tags in "" dnnl; do \
		echo ">> CC=aarch64-linux-gnu-gcc GOARCH=arm64 go vet -tags '$$tags' ./..."; \
		CC=aarch64-linux-gnu-gcc CGO_ENABLED=1 GOARCH=arm64 CGO_CFLAGS="-I$$inc" $(GO) vet -tags "$$tags" ./... || exit 1; done

check-docs: ## fail when docs/ (the swag-generated OpenAPI spec) is stale
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(SWAG) $(SWAG_FLAGS) "$$tmp/docs" --outputTypes go,json,yaml --quiet && \
		if ! diff -r "$$tmp/docs" docs >/dev/null; then \
			diff -r "$$tmp/docs" docs | head -40; \
			echo "docs/ is stale: run 'make docs' and commit the result"; exit 1; \
		fi && echo "docs/ is up to date"

docs: ## regenerate docs/ from the swag annotations in server/ and api/
	$(SWAG) fmt --dir server,api,api/openai,api/tei
	$(SWAG) $(SWAG_FLAGS) docs --outputTypes go,json,yaml --quiet

# gotest runs every test in one build ($(1): go flags, $(2): environment), after printing the
# path the CPU-dependent tests take there (BLAS backend, CPU flags, bf16 multiply).
define gotest
	@echo ">> $(2) go test $(1) ./..."
	@$(2) $(GO) test $(1) -count=1 -run '^$$' -v ./internal/kernels/ | grep '^kernels tests:' || true
	$(2) COLDSERVE_INTEROP=require $(GO) test $(1) -count=1 -timeout 20m ./...
endef

# Three builds: cgo with OpenBLAS under the race detector, cgo with oneDNN (what make build
# ships), and pure Go. Every test passes, or skips saying why, in each, on AVX2-only and on
# AVX-512/AMX CPUs.
test: deps deps-node vet check-docs test-chart ## vet, check docs/, the chart test, then every test in each build (race+OpenBLAS, oneDNN, pure Go)
	$(call gotest,-race,)
	$(call gotest,-tags dnnl,)
	$(call gotest,,CGO_ENABLED=0)

# The Helm chart test lives in deploy/, a Go module of its own so that the Helm SDK stays out of
# the server's go.mod. It has no cgo, so one run covers every build.
test-chart: ## render deploy/helm/coldserve with the Helm SDK and check every object, and helm lint it
	$(MAKE) --no-print-directory -C deploy GO=$(GO) test

bench: deps ## bench-peers, then bench-http: the whole issue-6 measurement (bench/RESULTS.md)
	$(MAKE) --no-print-directory bench-peers
	$(MAKE) --no-print-directory bench-http

# e.g. BENCH_ARGS="-passes 2 -shapes 1x16,8x128"; QUIET_WAIT=0 to skip waiting for a quiet box.
BENCH_ARGS ?=
bench-peers: deps ## our encoder vs ONNX Runtime and PyTorch, same shapes, alternating passes (BENCH_ARGS="-passes 4")
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(GO) run -tags '$(BLAS_TAGS)' ./bench/compare $(BENCH_ARGS)

bench-go: deps ## run the Go benchmarks (encoder, tokenizer, ...)
	$(GO) test -tags '$(BLAS_TAGS)' -run '^$$' -bench . -benchmem ./...

BENCH_HTTP_ARGS ?= -duration 30s -repeats 3
bench-http: deps ## HTTP load test vs the raw encoder, roberta-base geometry (BENCH_HTTP_ARGS="-soak 10m")
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(GO) run -tags '$(BLAS_TAGS)' ./bench/http $(BENCH_HTTP_ARGS)
