#!/usr/bin/env bash
# Installs the peers `make bench` compares Chaperone with into .cache/bench-peers/ (ignored, never
# committed), each from its own registry through its ordinary client, at the versions pinned in
# hack/versions.env. Idempotent: a peer is fetched again only when its pin changed. Prints nothing
# on a second run but the versions, which it also writes to .cache/bench-peers/versions.json.
#   nginx        Debian package, unpacked with dpkg -x (no system install, no service started)
#   LiteLLM      litellm[proxy] from the Python package index, in a venv (with matplotlib for the chart)
#   Portkey      @portkey-ai/gateway from the npm registry, under its own prefix (not in package.json)
#   smokescreen  github.com/stripe/smokescreen from the Go module proxy, go install into bin/
#   loadgen      bench/loadgen, make bench's fixed-rate load generator (Go, standard library only), into bin/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/versions.env"
dest=${BENCH_PEERS_DIR:-$root/.cache/bench-peers}
mkdir -p "$dest"
log() { echo "bench-peers: $*" >&2; }
# current <name> <pin>: true when <name> was installed at <pin> by a completed earlier run.
current() { [[ -f $dest/$1.pin && $(<"$dest/$1.pin") == "$2" ]]; }
done_() { echo "$2" >"$dest/$1.pin"; }

nginx_pin=$BENCH_NGINX_VERSION
if ! current nginx "$nginx_pin"; then
  log "nginx $nginx_pin (Debian package, unpacked into $dest/nginx)"
  tmp=$(mktemp -d) && chmod 755 "$tmp" # apt-get download runs as _apt
  # The archive keeps only the newest security update: fall back to the candidate when the pin left.
  if ! (cd "$tmp" && apt-get download -q "nginx=$nginx_pin" >&2); then
    log "nginx=$nginx_pin is no longer in the archive; using the candidate (apt-get update may help)"
    (cd "$tmp" && apt-get download -q nginx >&2)
  fi
  rm -rf "$dest/nginx" && mkdir -p "$dest/nginx"
  dpkg -x "$tmp"/nginx_*.deb "$dest/nginx"
  dpkg-deb -f "$tmp"/nginx_*.deb Version >"$dest/nginx.deb-version"
  rm -rf "$tmp"
  done_ nginx "$nginx_pin"
fi

venv_pin="litellm[proxy]==$BENCH_LITELLM_VERSION matplotlib==$BENCH_MATPLOTLIB_VERSION"
if ! current venv "$venv_pin"; then
  log "$venv_pin (venv in $dest/venv)"
  rm -rf "$dest/venv"
  python3 -m venv "$dest/venv"
  "$dest/venv/bin/pip" install -q --disable-pip-version-check $venv_pin >&2
  done_ venv "$venv_pin"
fi

if ! current portkey "$BENCH_PORTKEY_VERSION"; then
  log "@portkey-ai/gateway@$BENCH_PORTKEY_VERSION (npm prefix $dest/portkey)"
  rm -rf "$dest/portkey" && mkdir -p "$dest/portkey"
  echo '{"private":true}' >"$dest/portkey/package.json"
  npm install --prefix "$dest/portkey" --no-audit --no-fund --loglevel=error \
    "@portkey-ai/gateway@$BENCH_PORTKEY_VERSION" >&2
  done_ portkey "$BENCH_PORTKEY_VERSION"
fi

if ! current smokescreen "$BENCH_SMOKESCREEN_VERSION"; then
  log "github.com/stripe/smokescreen@$BENCH_SMOKESCREEN_VERSION (built into $dest/bin)"
  # Built from a one-line module rather than `go install mod@version`: the module proxy here serves
  # the pinned version but not the version list go install reads for deprecations, and the checksum
  # database has no entry for this tag, so the module's hash is checked against the pin instead.
  mod=$dest/smokescreen-mod
  rm -rf "$mod" && mkdir -p "$mod"
  printf 'module chaperone.dev/bench-peers/smokescreen\n\ngo 1.26\n' >"$mod/go.mod"
  (cd "$mod" && export GONOSUMDB=github.com/stripe/smokescreen GOFLAGS=-mod=mod GOTOOLCHAIN=local &&
    go get "github.com/stripe/smokescreen@$BENCH_SMOKESCREEN_VERSION" >&2 &&
    got=$(awk -v v="$BENCH_SMOKESCREEN_VERSION" '$1 == "github.com/stripe/smokescreen" && $2 == v {print $3}' go.sum) &&
    { [[ $got == "$BENCH_SMOKESCREEN_SUM" ]] || { log "smokescreen hash $got != pinned $BENCH_SMOKESCREEN_SUM"; exit 1; }; } &&
    go build -o "$dest/bin/smokescreen" github.com/stripe/smokescreen >&2)
  done_ smokescreen "$BENCH_SMOKESCREEN_VERSION"
fi

# Not a peer but the load generator for the fixed rates: this repository's own Go source, so its
# pin is a hash of that source and of the Go toolchain; rebuilt only when either changes.
loadgen_src=$root/bench/loadgen
loadgen_pin="$( (cd "$loadgen_src" && cat go.mod $(ls *.go | grep -v '_test\.go$') && go version) | sha256sum | cut -c1-12)"
if ! current loadgen "$loadgen_pin"; then
  log "bench/loadgen $loadgen_pin (built into $dest/bin)"
  (cd "$loadgen_src" && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go build -trimpath -o "$dest/bin/loadgen" . >&2)
  done_ loadgen "$loadgen_pin"
fi

# What actually runs, asked of each peer (the bench reads this file and prints it with the results).
nginx_v=$("$dest/nginx/usr/sbin/nginx" -v 2>&1 | sed 's#.*nginx/##')
litellm_v=$("$dest/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
mpl_v=$("$dest/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("matplotlib"))')
python_v=$("$dest/venv/bin/python" -c 'import platform; print(platform.python_version())')
portkey_v=$(node -p "require('$dest/portkey/node_modules/@portkey-ai/gateway/package.json').version")
smokescreen_v=$(go version -m "$dest/bin/smokescreen" | awk '$1 == "mod" && $2 == "github.com/stripe/smokescreen" {print $3}')
cat >"$dest/versions.json" <<JSON
{
  "nginx": "$nginx_v (Debian $(<"$dest/nginx.deb-version"))",
  "litellm": "$litellm_v (Python $python_v)",
  "portkey": "@portkey-ai/gateway $portkey_v",
  "smokescreen": "$smokescreen_v (built with $(go version -m "$dest/bin/smokescreen" | head -1 | awk '{print $2}'))",
  "loadgen": "bench/loadgen $loadgen_pin (built with $(go version -m "$dest/bin/loadgen" | head -1 | awk '{print $2}'))",
  "matplotlib": "$mpl_v"
}
JSON
cat "$dest/versions.json"
