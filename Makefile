# Gatehouse: every target does its own set-up on a fresh Debian machine.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
GATEHOUSE := $(BUILD_DIR)/bin/gatehouse
# Compile jobs: one per core unless told.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# ccache keys on paths relative to here, so every clone shares its cache.
export CCACHE_BASEDIR := $(CURDIR)

.PHONY: all deps configure build peers run test test-asan test-tsan clean package deploy test-package fuzz fuzz-build fuzz-smoke chaos

# The tests' npm peers, pinned by tests/peers/package-lock.json.
PEERS_STAMP := tests/peers/node_modules/.package-lock.json

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) > /dev/null

# The API page's files (swagger-ui-dist), embedded in the binary at build
# time (src/web); pinned by web-vendor/package-lock.json. Nothing else of
# npm goes into the binary, and the page fetches nothing when it loads.
WEB_VENDOR_STAMP := web-vendor/node_modules/.package-lock.json

$(WEB_VENDOR_STAMP): web-vendor/package-lock.json | deps
	cd web-vendor && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: configure $(WEB_VENDOR_STAMP)
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Serves http://127.0.0.1:3000 with embedded storage under ./data. Builds
# the one binary it runs, not the tests.
run: configure $(WEB_VENDOR_STAMP)
	@cmake --build --preset $(PRESET) -j $(JOBS) --target gatehouse
	DATA_DIR=$${DATA_DIR:-./data} $(GATEHOUSE) serve

$(PEERS_STAMP): tests/peers/package-lock.json | deps
	cd tests/peers && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

peers: $(PEERS_STAMP)

# The package tests (label `package`) check the Lambda artifact, so it is
# built first: about two minutes more on a clean tree, seconds otherwise.
# Then the bounded fuzzing run (`fuzz-smoke`, about 20 s a target plus the
# clang build) and `bench-smoke` (the benchmarks with tiny durations, so
# they keep working; no figure is judged); FUZZ_SMOKE=0 and BENCH_SMOKE=0
# leave them out.
FUZZ_SMOKE ?= 1
BENCH_SMOKE ?= 1
test: build peers package
	@ctest --preset $(PRESET) -j $(JOBS)
ifeq ($(FUZZ_SMOKE),1)
	@$(MAKE) --no-print-directory fuzz-smoke
endif
ifeq ($(BENCH_SMOKE),1)
	@$(MAKE) --no-print-directory bench-smoke
endif

# The whole suite again, built with ASan + UBSan (preset `asan`, build/asan):
# about five minutes of build, three of tests. .ci/run runs it after `make test`.
test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan FUZZ_SMOKE=0 BENCH_SMOKE=0

# The unit and Lambda suites built with ThreadSanitizer (preset `tsan`,
# build/tsan; only their targets, not the whole tree): the in-process
# threads of the server's pieces, the AWS client's resolver and the
# Runtime API client. .ci/run runs it after test-asan. (-Wno-tsan in the
# preset: GCC 12 warns that TSan does not model the atomic_thread_fence
# inside Asio; the suites run clean all the same.)
test-tsan: deps $(WEB_VENDOR_STAMP)
	@cmake --preset tsan > /dev/null
	@cmake --build --preset tsan -j $(JOBS)
	@ctest --preset tsan -j $(JOBS)

clean:
	rm -rf build

# The Lambda artifact: dist/gatehouse-lambda.zip, holding one static
# executable, `bootstrap` (preset `lambda`, built in build/lambda-package),
# which scripts/check-lambda-binary.sh checks before it is zipped.
LAMBDA_ZIP := dist/gatehouse-lambda.zip

package: deps $(WEB_VENDOR_STAMP)
	@cmake --preset lambda > /dev/null
	@cmake --build --preset lambda -j $(JOBS)
	@bash scripts/package-lambda.sh build/lambda-package/bin/gatehouse $(LAMBDA_ZIP)

# Only the packaging tests, against a fresh artifact.
test-package: build peers package
	@ctest --preset $(PRESET) -L package

# Deploys the artifact with deploy/serverless.yml and the serverless@3 that
# tests/peers pins (not whatever `npx serverless` would fetch). Needs AWS
# credentials (environment or ~/.aws); see deploy/README.md. No test runs it.
# REGION=... overrides serverless.yml's default region. JWT_ALG (RS256,
# ES256, EdDSA or HS256) is passed as the stack's jwtAlg parameter, and
# scripts/ensure-jwt-key.sh puts a first PEM key of that type into the
# stack's JWT secret when it holds none: before the stack update (an
# existing stack's secret, e.g. a v1 stage's HS256 one, which then becomes
# AWSPREVIOUS) and after it (a new stack's), restarting the function if it
# put one. Rotation is by hand (deploy/README.md).
STAGE ?= dev
JWT_ALG ?= RS256
DEPLOY_REGION = $(or $(REGION),eu-west-1)
ENSURE_JWT_KEY = bash scripts/ensure-jwt-key.sh --secret-id gatehouse/$(STAGE)/jwt-secret --alg $(JWT_ALG) \
                 --region $(DEPLOY_REGION)
deploy: package peers
	$(ENSURE_JWT_KEY) --if-exists
	cd deploy && ../tests/peers/node_modules/.bin/serverless deploy --stage $(STAGE) --region $(DEPLOY_REGION) \
	  --param="jwtAlg=$(JWT_ALG)"
	$(ENSURE_JWT_KEY) --restart gatehouse-$(STAGE)-api

# Benchmarks (issue 7; bench/, docs/BENCHMARKS.md): Gatehouse against the
# Node.js/Express original (bench/express-original) on the same dynalite and
# s3rver, in one run: Lambda cold start and peak RSS (bench/lambda_cold_start,
# 20 spawns + 100 invocations each), local HTTP with wrk, GET /health under
# POST /login saturation, the micro-benchmarks when bench/ builds them. Prints
# one table, writes bench/results/*.json (not committed) and the chart
# docs/benchmarks.png. Builds only what it runs: gatehouse, lambda_cold_start
# and micro_benchmarks in $(BUILD_DIR), plus the package; the run takes four
# to five minutes. `make bench-smoke` is the same with tiny durations (about
# 35 s; its results go to bench/results/smoke/, the chart is left alone).
EXPRESS_STAMP := bench/express-original/node_modules/.package-lock.json

$(EXPRESS_STAMP): bench/express-original/package-lock.json | deps
	cd bench/express-original && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: bench bench-smoke bench-build
bench-build: configure package peers $(EXPRESS_STAMP)
	@cmake --build --preset $(PRESET) -j $(JOBS) --target gatehouse lambda_cold_start
	@if grep -q 'micro_benchmarks' bench/CMakeLists.txt; then \
	  cmake --build --preset $(PRESET) -j $(JOBS) --target micro_benchmarks; fi

bench: bench-build
	@node bench/run.mjs --build-dir $(BUILD_DIR)

bench-smoke: bench-build
	@node bench/run.mjs --smoke --build-dir $(BUILD_DIR)

# libFuzzer targets (tests/fuzz, preset `fuzz`: clang-14, ASan + UBSan, in
# build/fuzz). `make fuzz SECONDS=N` runs each target N seconds (default 60)
# from a temporary copy of its corpus; any crash, leak or sanitizer report
# fails it and leaves the reproducer where tests/fuzz/run.sh says.
# `make fuzz-smoke` is the bounded run: about 20 s a target, inputs up to
# 8 KiB, 2 GiB RSS.
SECONDS ?= 60
fuzz-build: deps
	@cmake --preset fuzz > /dev/null
	@cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	@bash tests/fuzz/run.sh build/fuzz/bin $(SECONDS) -rss_limit_mb=2048

fuzz-smoke: fuzz-build
	@bash tests/fuzz/run.sh build/fuzz/bin 20 -max_len=8192 -rss_limit_mb=2048

# The chaos run (tests/chaos, docs/RELIABILITY.md "The chaos run"): `make
# test` runs it short (12 s of load per variant, seed 21); `make chaos
# SECONDS=N` runs its three variants (storage faults on the AWS backend,
# client faults and SIGKILLs on the embedded store) with N seconds of load
# each, seeded by SEED (a random seed unless given; printed either way, so
# `make chaos SECONDS=N SEED=S` repeats the plan). Records and logs stay in
# build/$(PRESET)/chaos-output/<variant>.
ifeq ($(origin SEED),undefined)
SEED := $(shell od -An -N3 -tu4 /dev/urandom | tr -d ' ')
endif
chaos: build peers
	@echo "chaos: SECONDS=$(SECONDS) SEED=$(SEED)"
	@CHAOS_SECONDS=$(SECONDS) CHAOS_SEED=$(SEED) CHAOS_OUTPUT_DIR=$(BUILD_DIR)/chaos-output $(BUILD_DIR)/bin/chaos_test
