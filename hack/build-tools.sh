#!/usr/bin/env bash
# Builds the local cluster's binaries from the pinned modules in hack/tools/*/ into bin/.
# Each tool group is keyed by a hash of its go.mod, go.sum, build flags and Go version: a build
# happens only when that key changes. Finished builds are kept in a per-user cache
# (CHAPERONE_TOOLS_CACHE, default ~/.cache/chaperone-tools) so a fresh clone on a warm machine
# only copies them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/versions.env"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0
cache=${CHAPERONE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chaperone-tools}
mkdir -p "$root/bin"

command -v go >/dev/null || { echo "build-tools: Go is required to build the local cluster (https://go.dev/dl)" >&2; exit 1; }

k8s_minor=${KUBERNETES_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
k8s_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$k8s_minor"
helm_ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"

# build GROUP LDFLAGS NAME=PACKAGE...
build() {
  local group=$1 ldflags=$2; shift 2
  local dir=$root/hack/tools/$group
  local key
  key=$( { cat "$dir/go.mod" "$dir/go.sum"; echo "$ldflags $*"; go version; } | sha256sum | cut -c1-16)
  local out=$cache/$group-$key
  if [ ! -f "$out/.complete" ]; then
    echo "build-tools: building $group ($*) — the first build takes several minutes" >&2
    rm -rf "$out.tmp"; mkdir -p "$out.tmp"
    local spec
    for spec in "$@"; do
      (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$out.tmp/${spec%%=*}" "${spec#*=}")
    done
    touch "$out.tmp/.complete"; rm -rf "$out"; mv "$out.tmp" "$out"
  fi
  for spec in "$@"; do
    local name=${spec%%=*}
    cmp -s "$out/$name" "$root/bin/$name" 2>/dev/null || install -m 0755 "$out/$name" "$root/bin/$name"
  done
}

groups=${*:-etcd kubernetes helm}
for g in $groups; do
  case $g in
    etcd) build etcd "-s -w" etcd=go.etcd.io/etcd/server/v3 ;;
    kubernetes) build kubernetes "$k8s_ldflags" \
      kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
      kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
      kubectl=k8s.io/kubernetes/cmd/kubectl ;;
    helm) build helm "$helm_ldflags" helm=helm.sh/helm/v4/cmd/helm ;;
    *) echo "build-tools: unknown tool group '$g' (etcd, kubernetes, helm)" >&2; exit 2 ;;
  esac
done
