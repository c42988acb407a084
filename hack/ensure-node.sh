#!/usr/bin/env bash
# Prints the directory holding a Node.js >= 24 binary. When the system node is older (or missing),
# installs the Node binary the npm registry distributes as a package (node-<os>-<arch>@NODE_VERSION)
# into .cache/node and prints its bin directory. npm itself only needs to exist on the system.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/versions.env"
want_major=${NODE_VERSION%%.*}

if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$want_major" ]; then
  dirname "$(command -v node)"; exit 0
fi

case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os=$(uname -s) ;; esac
pkg=node-$os-$arch
prefix=$root/.cache/node
bin=$prefix/node_modules/$pkg/bin
if [ ! -x "$bin/node" ] || [ "$("$bin/node" -p process.versions.node)" != "$NODE_VERSION" ]; then
  command -v npm >/dev/null || { echo "ensure-node: npm is needed to fetch Node $NODE_VERSION" >&2; exit 1; }
  echo "ensure-node: system node is older than $want_major; installing $pkg@$NODE_VERSION into .cache/node" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --loglevel=error "$pkg@$NODE_VERSION" >&2
fi
echo "$bin"
