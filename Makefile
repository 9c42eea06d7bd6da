# Linkgate: two commands to a working gateway (`make run`) and a tested one (`make test`).
SWIFT       ?= swift
BUILD_FLAGS ?=
BIN_DIR      = $(shell $(SWIFT) build $(BUILD_FLAGS) --show-bin-path)

.PHONY: all deps build run test unit format lint bench bench-proxy fuzz sanitize soak clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# The echo upstream and the gateway on the example policies, with two curl
# commands to try (one allowed, one denied). Ctrl-C stops both.
run: build
	scripts/run-demo.sh $(BIN_DIR)

# The unit-test targets only (every module's behaviour, the composed request path
# in-process): no root, no network beyond 127.0.0.1, no PostgreSQL, no browser.
# .ci/run runs it first, so a broken unit test fails in minutes.
unit: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build --skip EndToEndTests

# swift-format (the toolchain's) with .swift-format; lint also checks the
# structure: one-way folders, the command line in the executable, and comments
# that cite the repository's docs (scripts/check-structure.sh).
FORMAT_PATHS = Package.swift Sources Tests Benchmarks bench/NIOFloorProxy

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)
	scripts/check-structure.sh

# Unit tests of every module and end-to-end tests through the real binary, on
# SQLite and on a throwaway PostgreSQL cluster (scripts/with-postgres.sh installs
# Debian's postgresql if missing); interoperability tests use PyJWT, requests and
# authlib from PyPI in .venv (scripts/python-env.sh), and Debian's Chromium with
# chromium-driver and python3-selenium (scripts/browser-deps.sh); the forward-auth
# test runs Debian's nginx with auth_request; consent-page screenshots land in artifacts/.
# How many tests run at once: the end-to-end tests start real gateways, upstreams,
# Chromium and Python clients, and their time bounds (revocation within 2 s, reload
# within 2 s) assume the machine is not oversubscribed many times over.
TEST_WIDTH ?= 6

test: deps
	scripts/install-deps.sh nginx
	scripts/python-env.sh
	scripts/browser-deps.sh >/dev/null
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	LINKGATE_BINARY=$(BIN_DIR)/linkgate LINKGATE_PYTHON=$(CURDIR)/.venv/bin/python LINKGATE_BROWSER=1 \
		SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) \
		scripts/with-postgres.sh $(SWIFT) test $(BUILD_FLAGS) --skip-build

# Release build, then the benchmarks in Benchmarks/ (ordo-one/benchmark) pinned to
# one core, then the figures and their ratios to raw OpenSSL and to a raw write
# transaction of each database, measured side by side. The store rows run on SQLite
# and on the throwaway PostgreSQL cluster of scripts/with-postgres.sh (its server
# unpinned, so on the other core); where PostgreSQL's server cannot be installed, or
# with BENCH_POSTGRES=0, those rows are skipped with a note.
BENCH_ENV      = LINKGATE_BENCHMARKS=1
BENCH_FLAGS    = --scratch-path .build-bench
BENCH_RESULTS  = .build-bench/results
BENCH_POSTGRES ?= 1

bench: deps
	rm -rf $(BENCH_RESULTS) && mkdir -p $(BENCH_RESULTS)
	$(BENCH_ENV) LINKGATE_POSTGRES=$(BENCH_POSTGRES) scripts/with-postgres-if-possible.sh \
		"bench: the PostgreSQL rows are skipped" taskset -c 0 $(SWIFT) package $(BENCH_FLAGS) --disable-sandbox \
		--allow-writing-to-package-directory benchmark --no-progress --format jmh --path $(BENCH_RESULTS)
	scripts/bench-report.py $(BENCH_RESULTS)

clean:
	rm -rf .build .build-bench .build-release .build-fuzz .build-asan .build-tsan

# Tools that look for the next hole (docs/testing.md). fuzz: one libFuzzer harness
# per parser, each run for FUZZ_SECONDS (default 60) from the seed corpus in Fuzz/,
# built in .build-fuzz with LINKGATE_FUZZ=1; fails on a crash, leak or timeout.
fuzz: deps
	scripts/fuzz.sh

# The unit tests under AddressSanitizer (.build-asan) and ThreadSanitizer (.build-tsan).
sanitize: deps
	scripts/sanitize.sh

# The release gateway at full load for SOAK_SECONDS (default 300): a mix of every
# credential, grants and denials, a reload every 10 s and a revocation every 30 s;
# fails on an unexpected status, a socket error, RSS growth or a growing fd count.
soak: deps
	scripts/soak.sh

# linkgate as a proxy, side by side with nginx (direct and as a plain reverse proxy)
# and Apache (mod_proxy, and mod_oauth2 verifying an HS256 JWT), plus nginx with
# auth_request to linkgate's authz listener (decisions per second beside nginx
# proxy alone) and nginx and linkgate each terminating TLS (the cost of TLS on the
# main listener): installs nginx, wrk, apache2 and libapache2-mod-oauth2 if missing,
# release build in .build-release, a throwaway CA with openssl, wrk rounds pinned
# (servers on CPU 0, wrk on CPU 1) with distinct tokens, medians, ratios to
# nginx-proxy and Apache mod_oauth2, the gateway's RSS at 256 connections, token
# exchanges on SQLite and (under scripts/with-postgres.sh, when PostgreSQL can be
# installed) by two gateways sharing PostgreSQL, then one run on both CPUs.
# ROUNDS, DURATION, CONNECTIONS: see the script.
bench-proxy:
	SWIFT=$(SWIFT) scripts/with-postgres-if-possible.sh "bench-proxy: its PostgreSQL token rows are skipped" \
		scripts/bench-proxy.sh
