# Gatehouse: every target does its own set-up on a fresh Debian machine.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
GATEHOUSE := $(BUILD_DIR)/bin/gatehouse
JOBS ?= 2

.PHONY: all deps configure build peers run test test-asan clean

# The tests' npm peers, pinned by tests/peers/package-lock.json.
PEERS_STAMP := tests/peers/node_modules/.package-lock.json

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) > /dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Serves http://127.0.0.1:3000 with embedded storage under ./data.
run: build
	DATA_DIR=$${DATA_DIR:-./data} $(GATEHOUSE) serve

$(PEERS_STAMP): tests/peers/package-lock.json | deps
	cd tests/peers && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

peers: $(PEERS_STAMP)

test: build peers
	@ctest --preset $(PRESET) -j $(JOBS)

test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan

clean:
	rm -rf build
