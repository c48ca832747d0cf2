# coldserve: every developer and CI entry point. `make test` is the one command CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO    ?= go
SWAG  := $(GO) run github.com/swaggo/swag/cmd/swag@v1.16.6
SWAG_FLAGS := init --generalInfo swagger.go --dir server,api --output
# apt-get needs root; use sudo when we are not root.
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Matrix-multiply backend of the cgo build: dnnl (oneDNN, faster on AVX2 CPUs) or empty for OpenBLAS.
# `go test ./...` without tags always uses OpenBLAS; `make test` tests both.
BLAS_TAGS ?= dnnl
ARGS  ?= serve --model demo

.PHONY: help deps run build test vet check-docs docs bench bench-peers bench-go bench-http

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

deps: ## install the C toolchain, OpenBLAS and oneDNN headers when missing (Debian/Ubuntu, apt-get)
	@if ! command -v gcc >/dev/null 2>&1 || ! echo '#include <cblas.h>' | gcc -E - >/dev/null 2>&1 \
		|| ! echo '#include <dnnl.h>' | gcc -E - >/dev/null 2>&1; then \
		echo ">> installing gcc, OpenBLAS (libopenblas-openmp-dev) and oneDNN (libdnnl-dev) with apt-get"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends gcc libc6-dev libopenblas-openmp-dev libdnnl-dev; \
	fi

run: deps ## serve the embedded demo model on 127.0.0.1:8080 (ARGS="serve --model DIR" for a real one)
	$(GO) run -tags '$(BLAS_TAGS)' ./cmd/coldserve $(ARGS)

build: deps ## build bin/coldserve
	$(GO) build -trimpath -tags '$(BLAS_TAGS)' -o bin/coldserve ./cmd/coldserve

vet: deps ## go vet every package, in the cgo, oneDNN and pure-Go builds
	$(GO) vet ./...
	$(GO) vet -tags dnnl ./...
	CGO_ENABLED=0 $(GO) vet ./...

check-docs: ## fail when docs/ (the swag-generated OpenAPI spec) is stale
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(SWAG) $(SWAG_FLAGS) "$$tmp/docs" --outputTypes go,json,yaml --quiet && \
		if ! diff -r "$$tmp/docs" docs >/dev/null; then \
			diff -r "$$tmp/docs" docs | head -40; \
			echo "docs/ is stale: run 'make docs' and commit the result"; exit 1; \
		fi && echo "docs/ is up to date"

docs: ## regenerate docs/ from the swag annotations in server/ and api/
	$(SWAG) fmt --dir server,api
	$(SWAG) $(SWAG_FLAGS) docs --outputTypes go,json,yaml --quiet

# gotest runs every test in one build ($(1): go flags, $(2): environment), after printing the
# path the CPU-dependent tests take there (BLAS backend, CPU flags, bf16 multiply).
define gotest
	@echo ">> $(2) go test $(1) ./..."
	@$(2) $(GO) test $(1) -count=1 -run '^$$' -v ./model/ | grep '^model tests:' || true
	$(2) $(GO) test $(1) -count=1 -timeout 20m ./...
endef

# Three builds: cgo with OpenBLAS under the race detector, cgo with oneDNN (what make build
# ships), and pure Go. Every test passes, or skips saying why, in each, on AVX2-only and on
# AVX-512/AMX CPUs.
test: deps vet check-docs ## vet, check docs/, then every test in each build (race+OpenBLAS, oneDNN, pure Go)
	$(call gotest,-race,)
	$(call gotest,-tags dnnl,)
	$(call gotest,,CGO_ENABLED=0)

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
