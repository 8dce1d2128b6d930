#!/usr/bin/env bash
# Installs the rtc-sidecars command on a server (or any machine) from this checkout: checks the
# prerequisites, bundles the CLI into one file (templates included), packs it as an npm tarball
# and installs that with npm. Afterwards the checkout is not needed any more.
#
#   scripts/install-cli.sh                 check, build and install into npm's global prefix
#   scripts/install-cli.sh --prefix DIR    install into DIR (the command lands in DIR/bin)
#   scripts/install-cli.sh --pack DIR      only write the tarball into DIR (to copy elsewhere:
#                                          npm install -g ./rtc-sidecars-cli-<version>.tgz)
#   scripts/install-cli.sh --check         only print the prerequisite check
#
# This is the server's install. scripts/setup.sh is the development and test machine's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=""
PACK_ONLY=""
CHECK_ONLY=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
    --pack) PACK_ONLY="${2:?--pack needs a folder}"; shift 2 ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install-cli.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

ok() { printf '  \342\234\223 %-16s %s\n' "$1" "$2"; }
bad() { printf '  \342\234\227 %-16s %s\n' "$1" "$2"; }

# --- Prerequisites --------------------------------------------------------------------------
echo "Prerequisites:"
missing=0
node_major="$(node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0)"
if [ "$node_major" -ge 22 ]; then
  ok node "$(node --version) (Node 24 recommended; 22.12 or newer works)"
else
  bad node "Node.js 24 is needed for the rtc-sidecars command (found: $(node --version 2>/dev/null || echo none)); install Node 24 from your distribution, NodeSource or nodejs.org"
  missing=1
fi
if command -v npm >/dev/null; then ok npm "$(npm --version)"; else bad npm "npm comes with Node.js; install it with Node 24"; missing=1; fi
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  ok "docker compose" "$(docker compose version --short 2>/dev/null || docker compose version | head -1)"
elif command -v docker-compose >/dev/null; then
  ok "docker compose" "$(docker-compose version --short 2>/dev/null) (docker-compose v1: use \"docker-compose\" where the docs say \"docker compose\")"
else
  bad "docker compose" "not found: the stack needs Docker Engine with the compose plugin (not needed to install the command itself)"
fi
[ "$CHECK_ONLY" = 1 ] && exit "$missing"
[ "$missing" = 0 ] || { echo "install-cli.sh: install the missing prerequisites above first" >&2; exit 1; }

# --- Build dependencies (only what the CLI's bundle needs) ------------------------------------
cd "$ROOT"
if [ ! -d packages/cli/node_modules/esbuild ]; then
  PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' package.json)"
  if command -v pnpm >/dev/null && [ "$(pnpm --version)" = "$PNPM_VERSION" ]; then
    PNPM=(pnpm)
  else
    PNPM=(npx --yes "pnpm@$PNPM_VERSION")
  fi
  echo "Installing the CLI's build dependencies (pnpm $PNPM_VERSION)"
  "${PNPM[@]}" install --frozen-lockfile --filter "@rtc-sidecars/cli..." --reporter=append-only >/dev/null
fi

# --- Bundle, pack, install ----------------------------------------------------------------------
out="${PACK_ONLY:-$(mktemp -d)}"
tarball="$(node --conditions=source packages/cli/scripts/pack-cli.ts --out "$out")"
if [ -n "$PACK_ONLY" ]; then
  echo "Wrote $tarball"
  echo "Install it on any machine with Node 24: npm install -g $(basename "$tarball")"
  exit 0
fi
npm_args=(install -g --offline --no-audit --no-fund)
[ -n "$PREFIX" ] && npm_args+=(--prefix "$PREFIX")
npm "${npm_args[@]}" "$tarball" >/dev/null
rm -rf "$out"
bin_dir="${PREFIX:-$(npm prefix -g)}/bin"
echo "Installed $("$bin_dir/rtc-sidecars" --version) as $bin_dir/rtc-sidecars"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "Add it to your PATH: export PATH=\"$bin_dir:\$PATH\"" ;;
esac
