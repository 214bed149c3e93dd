# Shared set-up for scripts/run.sh and scripts/test.sh. Sourced, not run.
# Every step installs its tool only when the right version is missing, so re-running a
# script on a machine that is set up installs nothing.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

# Runs "$@" and records how long it took under the label $1 in TIMINGS.
TIMINGS=()
timed() {
  local label=$1; shift
  local start=$SECONDS
  "$@"
  TIMINGS+=("$(printf '%-10s %4ds' "$label" $((SECONDS - start)))")
}
print_timings() {
  printf '\n==> timings\n'
  printf '    %s\n' "${TIMINGS[@]}"
}

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The wasm-bindgen version the lock file pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

setup_rust() {
  command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 1; }
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local wbg
  wbg=$(wasm_bindgen_version)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    step "installing wasm-bindgen-cli $wbg (matches Cargo.lock, about 3 minutes, once)"
    # Without --locked: its lock file pins a webpki-roots version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
}

# Runs build_site in the background beside "$@" (the server build) and waits for both:
# their last, single-threaded steps (the browser bundle's LTO link, the `app` and `server`
# crates) overlap instead of running one after the other. The two use different profiles,
# so cargo builds them at the same time.
build_site_beside() {
  local site_log=target/build-site.log
  mkdir -p target
  build_site > "$site_log" 2>&1 &
  local site=$!
  local status=0
  "$@" || status=$?
  if ! wait "$site"; then
    cat "$site_log" >&2
    echo "building the browser bundle failed" >&2
    return 1
  fi
  tail -n 3 "$site_log"
  return "$status"
}

# What scripts/run.sh and scripts/cluster.sh serve: the browser bundle and the release server.
build_gantry() {
  step "building the console's browser bundle and the server (release), side by side"
  build_site_beside cargo build --release -p server --bin gantry
}

# The console's browser files in target/site, built the way users run them: the `app` library
# for wasm32 with `hydrate` in the `wasm-release` profile, wasm-bindgen, wasm-opt, the style
# sheet and public/. This is what `cargo leptos build --release` does for the front end,
# without needing cargo-leptos (17 minutes to install); each step after cargo is skipped when
# its input has not changed, so a rebuild with nothing changed takes about a second.
build_site() {
  local wasm="target/wasm32-unknown-unknown/wasm-release/app.wasm"
  local site="${GANTRY_SITE_ROOT:-target/site}"
  local pkg="$site/pkg"
  cargo build -p app --lib --target wasm32-unknown-unknown --profile wasm-release \
    --no-default-features --features hydrate
  mkdir -p "$pkg"
  # Named as the server's hydration script loads them (LEPTOS_OUTPUT_NAME in .cargo/config.toml):
  # pkg/gantry.js and pkg/gantry.wasm.
  if [ ! -f "$pkg/gantry.wasm" ] || [ "$wasm" -nt "$pkg/gantry.wasm" ]; then
    step "wasm-bindgen and wasm-opt"
    local tmp="target/site-bindgen"
    rm -rf "$tmp"
    wasm-bindgen "$wasm" --target web --no-typescript --out-dir "$tmp" --out-name gantry
    wasm-opt -Oz "$tmp/gantry_bg.wasm" -o "$tmp/gantry_bg.opt.wasm"
    mv "$tmp/gantry_bg.opt.wasm" "$pkg/gantry.wasm"
    mv "$tmp/gantry.js" "$pkg/gantry.js"
    rm -rf "$tmp"
  fi
  cp -u style/main.css "$pkg/gantry.css"
  cp -ru public/. "$site/"
}

setup_node_tools() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    step "installing Node.js"
    apt_install nodejs npm
  fi
}

# wasm-opt (shrinks the browser bundle), from the npm package binaryen.
setup_wasm_opt() {
  setup_node_tools
  if ! command -v wasm-opt >/dev/null; then
    step "installing wasm-opt (npm package binaryen)"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --silent binaryen@132.0.0
  fi
}

setup_browser_tests() {
  setup_node_tools
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Chromium (Debian)"
    apt_install chromium
  fi
  if ! command -v cargo-nextest >/dev/null; then
    step "installing cargo-nextest"
    cargo install cargo-nextest --locked
  fi
  local want have
  want=$(node -p "require('./end2end/package-lock.json').packages['node_modules/@playwright/test'].version")
  have=$(node -p "try { require('./end2end/node_modules/@playwright/test/package.json').version } catch { '' }")
  # TypeScript compiles the generated TypeScript SDK in a Rust integration test.
  if [ ! -f end2end/node_modules/typescript/package.json ]; then have=""; fi
  # axe-core checks each console page for accessibility in the browser tests.
  if [ ! -f end2end/node_modules/@axe-core/playwright/package.json ]; then have=""; fi
  if [ "$want" != "$have" ]; then
    step "installing Playwright $want (npm; it drives Debian's Chromium)"
    (cd end2end && npm ci --no-audit --no-fund --silent)
  fi
}
