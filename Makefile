# Linkgate: two commands to a working gateway (`make run`) and a tested one (`make test`).
SWIFT       ?= swift
BUILD_FLAGS ?=
BIN_DIR      = $(shell $(SWIFT) build $(BUILD_FLAGS) --show-bin-path)

.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

run: build
	$(BIN_DIR)/linkgate --help

# Unit tests of every module and end-to-end tests through the real binary.
test: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	LINKGATE_BINARY=$(BIN_DIR)/linkgate $(SWIFT) test $(BUILD_FLAGS) --skip-build

# Release build, then the benchmarks in Benchmarks/ (ordo-one/benchmark).
bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress --format text

clean:
	rm -rf .build Benchmarks/.build
