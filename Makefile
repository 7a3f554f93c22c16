# The two commands of the README: `make run` serves the app, `make test` runs every test.
# Both set up the machine first (scripts/setup.sh is idempotent and fast when all is there).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
HOST ?= 127.0.0.1
PORT ?= 8080
# trunk serve proxies /ws to this relay address (Trunk.toml): change both together.
RELAY_ADDR := 127.0.0.1:8081
CHROMEDRIVER ?= /usr/bin/chromedriver
export CHROMEDRIVER
# Firefox ESR (Debian's firefox-esr) runs the worker's browser tests and benchmark a second time,
# through geckodriver (scripts/setup.sh installs it from crates.io). wasm-bindgen-test-runner
# takes GECKODRIVER before CHROMEDRIVER whenever it is set, so it is given only to the Firefox
# runs (below), never exported to the others.
GECKODRIVER ?= $(or $(shell command -v geckodriver),$(HOME)/.cargo/bin/geckodriver)
unexport GECKODRIVER
IN_FIREFOX = $(WASM) GECKODRIVER="$(GECKODRIVER)"
export TRUNK_SKIP_VERSION_CHECK := true

# On the Debian fallback route, wasm builds run with Debian's toolchain (see scripts/setup.sh).
WASM = { [ ! -f .tools/env ] || source .tools/env; }; env PATH="$${WASM_PATH_PREFIX:+$$WASM_PATH_PREFIX:}$$PATH" $${WASM_ENV:-}
WORKER_PKG := $(CURDIR)/target/worker-pkg
# Release wasm goes through npm's wasm-opt (package.json; Trunk.toml names its version).
WASM_OPT := $(CURDIR)/node_modules/.bin/wasm-opt

# The shipped wasm (app and worker) is built with its own standard library (size-first), without
# panic messages, panic locations or Debug text: a panic stops the wasm at once (the page's error
# says "unreachable"), as it did before (panic = "abort"), only without the message. After gzip
# the app came out 10 % smaller and the worker 15 % (docs/MEASURED.md). The worker the browser
# tests start (worker-pkg) is built the same way, so that they test what ships and `make dist`
# reuses its build; the tests' own wasm keeps the messages. Only these builds use unstable
# flags (RUSTC_BOOTSTRAP, as on setup.sh's Debian route), in a target directory of their own:
# proc-macro2 rebuilds itself whenever RUSTC_BOOTSTRAP changes, and every macro crate after it.
SHIPPED_TARGET := $(CURDIR)/target/shipped
SHIPPED_STD = CARGO_TARGET_DIR=$(SHIPPED_TARGET) RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"

.PHONY: setup run test lane-host lane-wasm test-host test-browser test-e2e worker-pkg lint lint-host \
  lint-wasm dist relay relay-bin \
  bench-browser bench-relay screenshots
setup:
	@[ -n "$(SETUP_DONE)" ] || scripts/setup.sh

# Starts the relay and trunk serve (which proxies /ws to the relay); Ctrl-C stops both.
run: setup
	cargo build -q --release -p shieldcall-relay
	target/release/shieldcall-relay --listen $(RELAY_ADDR) & relay=$$!; \
	trap 'kill $$relay 2>/dev/null' EXIT; \
	echo "Shieldcall: http://$(HOST):$(PORT)"; \
	$(WASM) trunk serve --address $(HOST) --port $(PORT)

# One process serving everything: the release build of the app from the relay, which sends its
# wasm, JS and CSS brotli- or gzip-compressed to a browser that accepts them. The wasm imports
# of the app and the worker get short names first (scripts/short-imports.mjs).
dist: setup
	$(WASM) env PATH="$(dir $(WASM_OPT)):$$PATH" $(SHIPPED_STD) trunk build --release
	node scripts/short-imports.mjs dist
	node scripts/precompress.mjs dist
# The shipped relay, and for the e2e tests shieldcall-relay-mitm: the same relay with the
# test-only man-in-the-middle modes, a binary of its own so that `make relay` never ships them.
relay-bin:
	cargo build -q --release -p shieldcall-relay
	cargo build -q --release -p shieldcall-relay --features mitm --bin shieldcall-relay-mitm
relay: dist relay-bin
	target/release/shieldcall-relay --listen $(HOST):$(PORT) --dist dist

# Every test, in two lanes at once: the host's builds and tests (lint-host, test-host, relay-bin)
# beside the wasm ones (worker-pkg and dist in target/shipped, lint-wasm and test-browser in
# target/wasm32-unknown-unknown; cargo waits for the other lane where both need target/debug's
# lock, for build scripts and macros). On two cores each lane fills the other's one-core
# stretches (the wasm's fat LTO, wasm-opt, the browsers' test runs): docs/MEASURED.md. Each
# line says its lane. The end-to-end tests come after both (package.json: the file that prints
# the time to lock and the one with four browsers one at a time, then the others two at a time).
LANE = $(MAKE) --no-print-directory SETUP_DONE=1
test: setup
	@host=0; wasm=0; \
	( $(LANE) lane-wasm 2>&1 | sed -u 's/^/[wasm] /' ) & lane=$$!; \
	( $(LANE) lane-host 2>&1 | sed -u 's/^/[host] /' ) || host=$$?; \
	wait $$lane || wasm=$$?; \
	[ $$host -eq 0 ] && [ $$wasm -eq 0 ] || { echo "make test: a lane failed (host $$host, wasm $$wasm)" >&2; exit 1; }
	npm test
lane-host: lint-host test-host relay-bin
lane-wasm: worker-pkg dist lint-wasm test-browser

# The app and the worker exist only for wasm32 (web-sys's encoded-transform APIs need its cfg);
# the worker's pure parts (mode, registry, chat, cryptor) are linted on the host too.
lint: lint-host lint-wasm
lint-host: setup
	cargo fmt --all --check
	cargo clippy -q -p shieldcall-protocol -p shieldcall-e2ee -p shieldcall-call -p shieldcall-relay \
	  -p shieldcall-worker --all-targets -- -D warnings
	cargo clippy -q -p shieldcall-relay --features mitm --all-targets -- -D warnings
	# Alone, the worker is built as a page loads it: the E2EE core without its other suites.
	cargo clippy -q -p shieldcall-worker --all-targets -- -D warnings
# The app's browser tests include the worker-pkg (tests/common).
lint-wasm: worker-pkg
	$(WASM) cargo clippy -q --target wasm32-unknown-unknown -p shieldcall -p shieldcall-worker --all-targets -- -D warnings
	# With every suite, as the browser tests and the benchmark (tests/bench_worker.rs) build it.
	$(WASM) cargo clippy -q --target wasm32-unknown-unknown -p shieldcall-worker --features every-suite --all-targets -- -D warnings

# The relay's tests include those of the test-only man-in-the-middle binary (feature mitm); the
# worker's host tests are those of its pure parts (its browser tests are in test-browser).
test-host:
	cargo test -q -p shieldcall-protocol -p shieldcall-e2ee -p shieldcall-call -p shieldcall-relay \
	  --features shieldcall-relay/mitm
	cargo test -q -p shieldcall-worker --lib
	cargo test -q -p shieldcall-worker --lib --features every-suite

# The worker as the page loads it (wasm-bindgen --target no-modules), for tests that start it.
worker-pkg: setup
	@$(WASM) $(SHIPPED_STD) cargo build -q --profile wasm-release --target wasm32-unknown-unknown -p shieldcall-worker
	wasm-bindgen --target no-modules --no-typescript --out-dir $(WORKER_PKG) \
	  $(SHIPPED_TARGET)/wasm32-unknown-unknown/wasm-release/shieldcall_worker.wasm
	$(WASM_OPT) -O3 --converge --strip-producers --strip-target-features \
	  $(WORKER_PKG)/shieldcall_worker_bg.wasm -o $(WORKER_PKG)/shieldcall_worker_bg.wasm

# The worker's own browser tests, without its benchmark (that is `make bench-browser`). No -q
# for them: cargo passes it on as --quiet, which wasm-bindgen-test-runner rejects.
test-browser: worker-pkg
	$(WASM) cargo test --target wasm32-unknown-unknown -p shieldcall
	$(WASM) cargo test --target wasm32-unknown-unknown -p shieldcall-worker --lib --features every-suite
	$(IN_FIREFOX) cargo test --target wasm32-unknown-unknown -p shieldcall-worker --lib --features every-suite

# The worker's frame path in a Worker of headless Chromium, then of headless Firefox ESR: Rust
# only, the hybrid the worker runs, the same SFrame in plain JavaScript, and the bare WebCrypto
# call; prints tables of µs per frame with ratios (README, "Measured": the last run against the
# goals; docs/MEASURED.md: every run).
# Not run by `make test`.
# Built as the shipped worker is (SHIPPED_STD; with panic=abort for the test harness too, or the
# standard library would be built a second time, with unwinding, and clash with the first).
# Each browser's run is allowed 25 min, not the 300 s per test binary of .cargo/config.toml
# (each took about 3 min here; a WebCrypto call costs 85-110 µs in Firefox).
# Firefox's run is driven by puppeteer over WebDriver BiDi (scripts/firefox-bench-runner.mjs),
# not by geckodriver: a classic WebDriver script in the page, which wasm-bindgen-test-runner runs
# every 100 ms to read the output, makes Firefox run the Worker's wasm hundreds of times slower.
BENCH_STD = $(SHIPPED_STD) CARGO_UNSTABLE_PANIC_ABORT_TESTS=true WASM_BINDGEN_TEST_TIMEOUT=1500
IN_FIREFOX_BIDI = $(WASM) CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$(CURDIR)/scripts/firefox-bench-runner.mjs"
bench-browser: setup
	$(WASM) $(BENCH_STD) cargo test --profile wasm-release --target wasm32-unknown-unknown -p shieldcall-worker \
	  --features every-suite --test bench_worker -- --nocapture
	$(IN_FIREFOX_BIDI) $(BENCH_STD) cargo test --profile wasm-release --target wasm32-unknown-unknown -p shieldcall-worker \
	  --features every-suite --test bench_worker -- --nocapture

# The relay under load (crates/relay/README.md, "Capacity"): SOCKETS sockets on loopback as
# rooms of two, an offer-sized message per room per second, an abusive flood beside them; prints
# sockets held, RSS per socket and forwarding latency. Needs many open files (raised here, in the
# recipe's own shell, for the benchmark and the relay it starts). Not run by `make test`.
SOCKETS ?= 100000
bench-relay:
	cargo build -q --release -p shieldcall-relay --bin shieldcall-relay --example load
	ulimit -n 1048576 2>/dev/null || ulimit -n "$$(ulimit -Hn)"; "$${CARGO_TARGET_DIR:-target}"/release/examples/load --sockets $(SOCKETS) $(BENCH_ARGS)

# The README's screenshots (docs/screenshots/*.png), made by the e2e harness from the release
# build through the real relay (scripts/screenshots.mjs). Not run by `make test`.
screenshots: dist relay-bin
	node scripts/screenshots.mjs

# Real browsers call each other through the real relay serving the release build: Chromium to
# Chromium, Chromium to Firefox ESR both ways, and Firefox to Firefox.
test-e2e: dist relay-bin
	npm test
