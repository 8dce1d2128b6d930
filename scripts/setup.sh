#!/usr/bin/env bash
# DEVELOPMENT AND TEST MACHINE set-up, not a server's: a server needs only Docker with compose
# and Node 24 for the CLI (scripts/install-cli.sh, README "On a server").
#
# Brings a fresh machine to the state where the whole test suite runs. Idempotent: every step
# checks before it installs, and tool builds are cached in the git-ignored .tools/ folder.
# coturn, nginx and redis-server are installed for their binaries only: the tests start them
# themselves, and their system services are left disabled and stopped, so nothing holds 80,
# 3478 or 6379 after a reboot (a stack on the same machine would collide with them).
#
#   scripts/setup.sh            install everything (Node 24, pnpm, coturn, nginx, LiveKit, Synapse, deps)
#   SETUP_SKIP_APT=1 ...        skip Debian packages (when they are already there)
#
# Afterwards put .tools/bin first on PATH:  export PATH="$PWD/.tools/bin:$PATH"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
mkdir -p "$BIN"

NODE_MAJOR=24
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$ROOT/package.json")"
# livekit-server releases after v1.11 replace pion modules with forks that the Go module proxy
# does not serve, so they cannot be built from it; v1.11.0 is the newest that builds cleanly.
LIVEKIT_VERSION="v1.11.0"
# Synapse for the end-to-end suite (PyPI, in .tools/synapse-venv).
SYNAPSE_VERSION="1.163.2"
APT_PACKAGES=(coturn nginx-light docker-compose redis-server wrk)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- Prerequisites this script cannot install itself, checked before anything else ------------
# Go builds livekit-server (once, cached); Python 3 >= 3.10 hosts Synapse; npm installs Node 24
# and pnpm when they are missing. Debian packages come through apt-get (as root or with sudo).
need_missing=()
if [ ! -x "$TOOLS/livekit-$LIVEKIT_VERSION/livekit-server" ] && ! command -v go >/dev/null; then
  need_missing+=("Go (to build livekit-server $LIVEKIT_VERSION once; Debian: apt-get install golang-go)")
fi
if ! command -v "${PYTHON:-python3}" >/dev/null && { [ "${SETUP_SKIP_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null; }; then
  need_missing+=("Python 3.10 or newer (for the Synapse test homeserver)")
fi
if ! command -v npm >/dev/null && ! { [ -x "$TOOLS/node/bin/node" ] && [ -x "$TOOLS/pnpm/bin/pnpm" ]; }; then
  need_missing+=("npm (it installs Node 24 and pnpm into .tools/; Debian: apt-get install npm)")
fi
if [ "${SETUP_SKIP_APT:-0}" != 1 ] && ! command -v apt-get >/dev/null; then
  need_missing+=("apt-get (Debian or Ubuntu), or SETUP_SKIP_APT=1 with coturn, nginx-light, docker-compose and redis-server installed")
fi
if [ "${#need_missing[@]}" -gt 0 ]; then
  log "missing prerequisites of the development/test set-up:"
  for item in "${need_missing[@]}"; do printf '  - %s\n' "$item"; done
  exit 1
fi

# --- Node.js ----------------------------------------------------------------------------------
node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if [ -x "$TOOLS/node/bin/node" ] && [ "$(node_major "$TOOLS/node/bin/node")" -ge 22 ]; then
  NODE="$TOOLS/node/bin/node"
elif command -v node >/dev/null && [ "$(node_major node)" -ge 22 ]; then
  NODE="$(command -v node)"
else
  log "installing Node.js $NODE_MAJOR from the npm registry into .tools/node"
  npm install -g --no-fund --no-audit --prefix "$TOOLS/node" "node@$NODE_MAJOR" >/dev/null
  NODE="$TOOLS/node/bin/node"
fi
ln -sf "$NODE" "$BIN/node"
export PATH="$BIN:$(dirname "$NODE"):$PATH"
log "node $(node --version)"

# --- pnpm (the version pinned in package.json) --------------------------------------------------
if [ ! -x "$TOOLS/pnpm/bin/pnpm" ] || [ "$("$TOOLS/pnpm/bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION into .tools/pnpm"
  npm install -g --no-fund --no-audit --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
fi
ln -sf "$TOOLS/pnpm/bin/pnpm" "$BIN/pnpm"
log "pnpm $(pnpm --version)"

# --- Debian packages ----------------------------------------------------------------------------
if [ "${SETUP_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    # Installing coturn or nginx must not leave system daemons running on the ports tests use.
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    $SUDO rm -f /usr/sbin/policy-rc.d
  fi
  # The policy above keeps them from starting now; this keeps them from starting at boot (and
  # stops any an earlier install left running). Only where systemd runs; elsewhere nothing
  # starts them.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    for unit in coturn nginx redis-server; do
      if systemctl list-unit-files "$unit.service" >/dev/null 2>&1; then
        $SUDO systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
        $SUDO systemctl mask "$unit.service" >/dev/null 2>&1 || true
      fi
    done
  fi
fi
for tool in turnserver nginx wrk; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { log "missing $tool after install"; exit 1; }
done

# --- LiveKit server (Go module proxy, built once, cached) ---------------------------------------
LK_DIR="$TOOLS/livekit-$LIVEKIT_VERSION"
if [ ! -x "$LK_DIR/livekit-server" ]; then
  log "building livekit-server $LIVEKIT_VERSION from the Go module proxy (once)"
  src_dir="$(cd "$TOOLS" && GOFLAGS=-mod=mod go mod download -json "github.com/livekit/livekit-server@$LIVEKIT_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  build_dir="$TOOLS/build/livekit-server"
  rm -rf "$build_dir" && mkdir -p "$build_dir" && cp -r "$src_dir/." "$build_dir/" && chmod -R u+w "$build_dir"
  mkdir -p "$LK_DIR"
  (cd "$build_dir" && go build -trimpath -o "$LK_DIR/livekit-server.tmp" ./cmd/server)
  mv "$LK_DIR/livekit-server.tmp" "$LK_DIR/livekit-server"
  rm -rf "$build_dir"
fi
ln -sf "$LK_DIR/livekit-server" "$BIN/livekit-server"
log "livekit-server $("$BIN/livekit-server" --version 2>/dev/null | head -1)"

# --- Synapse (PyPI, pinned, in a virtualenv, cached) and openssl, for the end-to-end suite -------
# The end-to-end suite runs a real Synapse for OpenID userinfo and /voip/turnServer.
# matrix-synapse needs Python >= 3.10.
SYNAPSE_VENV="$TOOLS/synapse-venv"
installed_synapse() {
  "$SYNAPSE_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("matrix-synapse"))' 2>/dev/null || true
}
if [ "$(installed_synapse)" != "$SYNAPSE_VERSION" ]; then
  PYTHON="${PYTHON:-python3}"
  # Debian ships venv/ensurepip separately from python3; install them only when they are missing.
  if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null && [ "${SETUP_SKIP_APT:-0}" != 1 ] \
    && command -v apt-get >/dev/null; then
    log "installing Debian packages: python3 python3-venv"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  command -v "$PYTHON" >/dev/null || { log "python3 is required to install Synapse"; exit 1; }
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || { log "Synapse $SYNAPSE_VERSION needs Python >= 3.10, found $("$PYTHON" --version 2>&1)"; exit 1; }
  log "installing matrix-synapse $SYNAPSE_VERSION into .tools/synapse-venv (once)"
  rm -rf "$SYNAPSE_VENV"
  "$PYTHON" -m venv "$SYNAPSE_VENV" || { log "cannot create a Python virtualenv (Debian: apt-get install python3-venv)"; exit 1; }
  "$SYNAPSE_VENV/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" \
    || { log "pip could not install matrix-synapse $SYNAPSE_VERSION"; rm -rf "$SYNAPSE_VENV"; exit 1; }
  [ "$(installed_synapse)" = "$SYNAPSE_VERSION" ] || { log "matrix-synapse $SYNAPSE_VERSION did not install"; exit 1; }
fi
log "synapse $SYNAPSE_VERSION"
# The e2e suite also issues a throw-away TLS certificate for Synapse's federation listener.
if ! command -v openssl >/dev/null; then
  if [ "${SETUP_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
    log "installing Debian package: openssl"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openssl >/dev/null
  fi
  command -v openssl >/dev/null || { log "openssl is required by the end-to-end suite"; exit 1; }
fi

# --- Workspace dependencies ---------------------------------------------------------------------
log "installing workspace dependencies"
cd "$ROOT"
if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile --reporter=append-only >/dev/null
else
  pnpm install --reporter=append-only >/dev/null
fi
log "ready. Use: export PATH=\"$BIN:\$PATH\""
