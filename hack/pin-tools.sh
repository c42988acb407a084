#!/usr/bin/env bash
# Writes hack/tools/*/go.mod and go.sum from hack/versions.env. Run it after changing a pin and
# commit what it writes: the committed module files are what hack/build-tools.sh builds from.
set -euo pipefail
cd "$(dirname "$0")"
source ./versions.env
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

pin() { # name version go.mod-body tool-packages...
  local name=$1 version=$2 body=$3; shift 3
  local dir=tools/$name
  mkdir -p "$dir"
  printf 'module chaperone.dev/hack/tools/%s\n\ngo 1.26\n\n%s\n' "$name" "$body" >"$dir/go.mod"
  rm -f "$dir/go.sum"
  (cd "$dir" && for t in "$@"; do go get -tool "$t@$version"; done && go mod tidy)
  echo "pinned $name $version in $dir"
}

# k8s.io/kubernetes refers to its staging modules as ./staging/...; outside its own tree each
# must be replaced by the published module of the matching v0.X.Y.
staging_version=v0.${KUBERNETES_VERSION#v1.}
k8s_mod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
replaces=$(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging_version"'#p' "$k8s_mod")
pin kubernetes "$KUBERNETES_VERSION" \
  "require k8s.io/kubernetes $KUBERNETES_VERSION

replace (
$replaces
)" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl

pin etcd "$ETCD_VERSION" "require go.etcd.io/etcd/server/v3 $ETCD_VERSION" go.etcd.io/etcd/server/v3
pin helm "$HELM_VERSION" "require helm.sh/helm/v4 $HELM_VERSION" helm.sh/helm/v4/cmd/helm
