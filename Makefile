# SplatKit developer entry points. `make` (or `make help`) lists them.
SWIFT ?= swift
# Worker threads for `make bench`; empty means the default (nproc).
THREADS ?=
# Extra arguments for `swift test`, e.g. SWIFT_TEST_FLAGS="--filter TensorCoreTests".
SWIFT_TEST_FLAGS ?=
# Release builds target this machine's CPU (scripts/release-flags; SPLATKIT_CPU=generic for
# the portable baseline).
RELEASE_FLAGS ?= $(shell scripts/release-flags)

.DEFAULT_GOAL := help
# Cases for `make fuzz` (scripts/fuzz); `make test` runs a short fixed subset.
FUZZ_CASES ?= 3000
FUZZ_SEED ?= 1

.PHONY: help deps build test fuzz demo bench fixtures clean

help:
	@echo "SplatKit make targets:"
	@echo "  help      show this list (default)"
	@echo "  deps      install the Debian build dependencies (scripts/install-deps)"
	@echo "  build     release build of the splatkit executable, for this CPU"
	@echo "  test      debug build of the tests, then swift test (SWIFT_TEST_FLAGS=...) and 48 fuzz cases"
	@echo "  fuzz      release build, then scripts/fuzz: damaged inputs under 4 GiB and a timeout (FUZZ_CASES, FUZZ_SEED)"
	@echo "  demo      build, then run .build/release/splatkit demo"
	@echo "  bench     build, then tensor benchmarks vs. PyTorch (THREADS=N, BENCH_DIR=dir)"
	@echo "  fixtures  regenerate the tensor test fixtures with PyTorch"
	@echo "  clean     swift package clean"

deps:
	scripts/install-deps

build: deps
	$(SWIFT) build -c release --product splatkit $(RELEASE_FLAGS)

# The PyTorch fixture tests run first with the kernels the splatkit command selects for this
# CPU (see ProcessSetup.swift), so the numerics users get are the ones checked; then the whole
# suite runs with OpenBLAS's own choice. scripts/test-reports checks a generated HTML report
# in headless Chromium. XCTest only (the suite has no swift-testing tests).
test: deps
	$(SWIFT) build --build-tests
	@kernel=$$(.build/debug/splatkit info --blas-kernel-choice); \
	if [ -n "$$kernel" ]; then \
		echo "== fixture tests with OPENBLAS_CORETYPE=$$kernel (the kernels splatkit uses here)"; \
		OPENBLAS_CORETYPE=$$kernel $(SWIFT) test --skip-build --disable-swift-testing --filter Fixture; \
	fi
	scripts/test-reports
	$(SWIFT) test --skip-build --disable-swift-testing $(SWIFT_TEST_FLAGS)
	scripts/fuzz --cases 48 --seed 7 --splatkit .build/debug/splatkit

# Every input kind damaged FUZZ_CASES times; fails on any crash or hang (inputs kept in fuzz-failures/).
fuzz: build
	scripts/fuzz --cases $(FUZZ_CASES) --seed $(FUZZ_SEED) --kill-resume 20 --splatkit .build/release/splatkit

demo: build
	.build/release/splatkit demo

bench: build
	THREADS="$(THREADS)" scripts/bench

fixtures:
	python3 scripts/reference/make_tensor_fixtures.py

clean:
	$(SWIFT) package clean
