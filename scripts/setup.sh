#!/usr/bin/env bash
# Installs, idempotently and without questions, what building, serving and testing Shieldcall
# needs on a fresh Debian 12 machine with rustup: a wasm32 standard library, wasm-bindgen-cli at
# exactly Cargo.lock's version, trunk, Chromium with ChromeDriver, Firefox ESR with geckodriver
# and Xvfb, and the npm tools for the end-to-end tests. Everything comes from the package
# registries (crates.io, Debian, npm) or rustup; nothing else is downloaded. Safe to run again: what is already there is skipped.
#
# Writes .tools/env: the variables the Makefile sources (only set on the Debian fallback route).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p .tools
log() { printf 'setup: %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q "${missing[@]}" >/dev/null ||
    { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q "${missing[@]}" >/dev/null; }
}

# 1. The wasm32 standard library: rustup's target, or Debian's rustc-web with -Zbuild-std.
: >.tools/env
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  :
elif command -v rustup >/dev/null && timeout 300 rustup target add wasm32-unknown-unknown; then
  log "added rustup's wasm32-unknown-unknown target"
else
  log "rustup's wasm32 target is out of reach: falling back to Debian's rustc-web and -Zbuild-std"
  # bookworm itself has rustc-web 1.85, older than Cargo.toml's rust-version: the 1.96 this route
  # was verified with comes from bookworm-security, which a stale package list does not offer.
  have_web=$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || true)
  if ! dpkg --compare-versions "${have_web:-0}" ge 1.96; then
    log "apt-get update; apt-get install rustc-web cargo-web rust-web-src rust-web-clippy lld-19"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q rustc-web cargo-web rust-web-src rust-web-clippy lld-19 >/dev/null
    have_web=$(dpkg-query -W -f='${Version}' rustc-web)
    dpkg --compare-versions "$have_web" ge 1.96 ||
      { log "Debian offers rustc-web $have_web only; this route needs 1.96 or newer"; exit 1; }
  fi
  apt_install rustc-web cargo-web rust-web-src rust-web-clippy lld-19
  # Trunk runs plain `cargo` from PATH, so Debian's toolchain goes first on PATH for wasm builds
  # (clippy too: `make lint` runs `cargo clippy` there, and rustup's clippy has no std sources).
  mkdir -p .tools/debian-rust
  for tool in cargo rustc rustdoc cargo-clippy clippy-driver; do
    ln -sf "/usr/bin/$tool" ".tools/debian-rust/$tool"
  done
  cat >.tools/env <<ENV
export WASM_PATH_PREFIX=$root/.tools/debian-rust
export WASM_ENV="RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19"
ENV
fi

# The shipped wasm rebuilds the standard library from its sources (SHIPPED_STD in the Makefile):
# Debian's rust-web-src on that route, rustup's rust-src on this one.
# Its -Cpanic=immediate-abort came with Rust 1.92 (the Debian route's 1.96 has it).
rust_version=$(rustc --version | cut -d' ' -f2)
if [ ! -s .tools/env ] && ! printf '%s\n' 1.92.0 "${rust_version%%-*}" | sort -V -C; then
  log "rustc $rust_version: the shipped wasm needs Rust 1.92 or newer (rustup update stable)"; exit 1
fi
if [ ! -s .tools/env ] && ! rustup component list --installed 2>/dev/null | grep -qx rust-src; then
  timeout 300 rustup component add rust-src ||
    { log "rustup's rust-src is out of reach: the shipped wasm (make dist, worker-pkg) needs it"; exit 1; }
  log "added rustup's rust-src"
fi

# 2. Chromium and ChromeDriver for the browser tests, and Firefox ESR for the calls between
#    Chromium and Firefox.
command -v chromium >/dev/null && command -v chromedriver >/dev/null || apt_install chromium chromium-driver
command -v firefox-esr >/dev/null || apt_install firefox-esr
# Xvfb: Firefox has no fake screen to share; the end-to-end tests give it a virtual display.
command -v Xvfb >/dev/null || apt_install xvfb
# coturn: the end-to-end tests start their own turnserver on loopback (e2e/turn.test.mjs).
# Under systemd Debian's package enables and starts coturn.service at once (its
# /etc/default/coturn switch, off by default, only governs the sysvinit script): stop and
# disable that daemon, once, right after the install; a TURN server someone enables later
# stays as they set it.
if ! command -v turnserver >/dev/null; then
  apt_install coturn
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now coturn.service >/dev/null 2>&1 || true
  fi
fi
# redis-server: the relay's cluster tests (crates/relay/tests/cluster.rs) start their own on a
# free loopback port, with nothing saved. Debian's package enables redis-server.service on
# 127.0.0.1:6379 under systemd: stop and disable that one the same way, once.
if ! command -v redis-server >/dev/null; then
  apt_install redis-server
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now redis-server.service >/dev/null 2>&1 || true
  fi
fi

# 3. wasm-bindgen-cli at exactly the version Cargo.lock pins (the CLI and the crate must agree).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  # Not --locked: the registry lacks one of its locked dependency versions.
  log "cargo install wasm-bindgen-cli $want (4-8 min the first time)"
  cargo install -q wasm-bindgen-cli --version "=$want"
fi

# 3b. geckodriver, for the worker's browser tests in Firefox (Debian has no package). A debug
#     build: about 1 min instead of 5 for the release one, and the speed of a WebDriver proxy
#     does not matter here.
if ! command -v geckodriver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver" ]; then
  log "cargo install --debug geckodriver (about 1 min the first time)"
  cargo install -q --debug --locked geckodriver
fi

# 4. Trunk. 0.22 needs rustc >= 1.96.1; on an older stable use the nightly toolchain if there is
#    one, otherwise the last trunk that builds on it.
if ! command -v trunk >/dev/null; then
  log "cargo install trunk (15-18 min the first time)"
  if cargo install -q trunk --locked 2>/dev/null; then :
  elif rustup toolchain list 2>/dev/null | grep -q nightly && cargo +nightly install -q trunk --locked; then :
  else cargo install -q trunk --version 0.21.14 --locked
  fi
fi

# 5. Node packages for the two-browser tests (Playwright drives Debian's Chromium, puppeteer-core
#    Debian's Firefox ESR over WebDriver BiDi; neither downloads a browser of its own), and
#    binaryen's wasm-opt for release builds (npm's: Debian's binaryen 108 broke the output).
if [ -f package.json ] && { [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/puppeteer-core ] \
    || [ ! -x node_modules/.bin/wasm-opt ]; }; then
  log "npm ci"
  if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else npm install --silent --no-audit --no-fund; fi
fi

# 6. Sources for offline builds (trunk builds with --offline), the standard library's own
#    dependencies among them (its -Zbuild-std build in `make dist`).
cargo fetch -q
(
  [ ! -f .tools/env ] || source .tools/env
  env PATH="${WASM_PATH_PREFIX:+$WASM_PATH_PREFIX:}$PATH" RUSTC_BOOTSTRAP=1 \
    cargo fetch -q --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
)
log "ready"
