# Chaperone — every target runs with Node 24 first on PATH (installed into .cache/node when the
# system node is older) and the local cluster binaries in bin/ (built from pinned Go modules).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

NODE_BIN := $(shell hack/ensure-node.sh)
ifeq ($(NODE_BIN),)
$(error could not find or install Node 24: see the output of hack/ensure-node.sh)
endif
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# Jest loads the ESM-only @kubernetes/client-node and jose through Node's VM modules.
JEST := NODE_OPTIONS=--experimental-vm-modules jest
JEST_ARGS ?=
CLUSTER := node hack/cluster/main.ts

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --loglevel=error
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## install npm dependencies (npm ci)

.PHONY: lock
lock: ## refresh package-lock.json after a dependency change (keeps every platform's entries)
	npm install --package-lock-only --loglevel=error
	node hack/complete-lockfile.ts

.PHONY: tools
tools: ## build etcd, kube-apiserver, kube-controller-manager, kubectl and helm into bin/ (only when a pin changed)
	hack/build-tools.sh

.PHONY: lint
lint: deps ## eslint and prettier --check
	eslint --max-warnings 0 .
	prettier --check --log-level warn .

.PHONY: format
format: deps ## rewrite files with prettier
	prettier --write --log-level warn .

.PHONY: typecheck
typecheck: deps ## tsc --noEmit over the whole repository
	tsc --noEmit

.PHONY: build
build: deps native ## compile TypeScript into dist/, bundle the sidecar into dist/sidecar/src/main.js, compile its native function
	tsc -p tsconfig.build.json
	node hack/bundle-sidecar.ts
	@# npm links the bins of dependencies only: this makes `npx chaperone-proxy` find the project's own.
	ln -sf ../../dist/sidecar/src/main.js node_modules/.bin/chaperone-proxy

.PHONY: test-unit
test-unit: deps native ## unit tests only (no cluster)
	$(JEST) --selectProjects unit

.PHONY: test-integration
test-integration: deps tools native ## integration tests on a real local control plane
	$(JEST) --selectProjects integration

.PHONY: generate
generate: deps ## write the CRD generated from api/ into crds/ and the chart
	node hack/generate.ts

.PHONY: verify-generated
verify-generated: deps ## fail when crds/ or the chart's CRD differ from what api/ generates
	node hack/generate.ts --check

.PHONY: native
native: deps ## compile the sidecar's native function (dist/sidecar/src/page-trim.node; the tests load it)
	node hack/build-native.ts

.PHONY: test
test: lint typecheck verify-generated tools native ## everything CI runs: lint, typecheck, generated files, unit and integration tests
	$(JEST) $(JEST_ARGS)

.PHONY: helm-lint
helm-lint: ## helm lint charts/chaperone with its default values and, --strict, with ci/strict-values.yaml
	hack/build-tools.sh helm
	bin/helm lint charts/chaperone
	bin/helm lint --strict charts/chaperone -f charts/chaperone/ci/strict-values.yaml

.PHONY: chart-test
chart-test: deps tools ## the chart on a real local control plane: lint, server-side dry run, install/upgrade/uninstall, certificate renewal
	$(JEST) --selectProjects integration --testPathPatterns 'test/integration/(helm|cert-rotation)\.test\.ts'

.PHONY: bench-admission
bench-admission: deps ## webhook /mutate latency p50/p99: a typical pod and a 64 KiB pod spec
	node bench/admission.ts

.PHONY: bench-peers
bench-peers: ## install the benchmark's peers (nginx, LiteLLM, Portkey, smokescreen) into .cache/bench-peers, at the pins in hack/versions.env
	hack/bench-peers.sh

.PHONY: bench
bench: build bench-peers ## Chaperone side by side with direct, undici, nginx, LiteLLM, Portkey, smokescreen: table, JSON and chart in bench/results/
	node bench/side-by-side.ts

.PHONY: bench-sidecar
bench-sidecar: build ## chaperone-proxy vs a direct call vs a bare undici pass-through: added latency, throughput, first token, RSS
	node bench/sidecar.ts

.PHONY: bench-redaction
bench-redaction: deps ## data boundary throughput on 4 KiB chat bodies: redaction on vs JSON parse + serialise vs raw pass-through
	node bench/redaction.ts

.PHONY: bench-identity
bench-identity: deps ## workload identity: added latency of the first call (exchange) and later calls (cache) vs a Secret key; cache hit rate under load
	node bench/identity.ts

.PHONY: cluster-up
cluster-up: tools ## start the local control plane; kubeconfig in .cluster/kubeconfig
	$(CLUSTER) up

.PHONY: cluster-down
cluster-down: ## stop the local control plane (no-op when none runs)
	$(CLUSTER) down

.PHONY: cluster-status
cluster-status: ## show the running local control plane
	$(CLUSTER) status

.PHONY: clean
clean: cluster-down ## remove build output (keeps the per-user tool cache)
	rm -rf dist bin coverage

.PHONY: demo
demo: deps tools native ## the end-to-end demo on a local cluster: chart, policy, injected pod, sidecar, SDK calls, kill switch
	node hack/demo/main.ts

.PHONY: bench-control-plane
bench-control-plane: deps tools ## kill-switch propagation p50/p99 (1 and 200 sidecars), controller RSS with 1000 streams, re-sync after restart
	node bench/control-plane.ts
