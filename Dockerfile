# syntax=docker/dockerfile:1
# Chaperone's two images from one build (docs/images.md):
#   docker build --target chaperone-controller -t chaperone/chaperone-controller:0.1.0 .
#   docker build --target chaperone-proxy      -t chaperone/chaperone-proxy:0.1.0 .
# One Dockerfile because both processes share api/, the lockfile and the compiler run: one build
# stage, one dependency stage, two small runtime targets. The controller runs tsc's output with the
# production node_modules; the sidecar runs its esbuild bundle, which holds every package it uses.

ARG NODE_IMAGE=node:24-slim
# Distroless Node 24: node and its libraries only, no shell or package manager; runs as
# nonroot (65532), the uid the webhook gives the injected sidecar and the chart the controller.
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian13:nonroot

# Compile TypeScript with every dependency (tsc, @types/*), then bundle the sidecar (esbuild) and
# compile its one native function (a C compiler for hack/build-native.ts).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY hack/bundle-sidecar.ts hack/build-native.ts hack/
COPY sidecar/native sidecar/native
COPY api/src api/src
COPY webhook/src webhook/src
COPY sidecar/src sidecar/src
RUN npm run build && find dist -name '*.map' -delete

# Production dependencies only; type declarations, source maps and docs are dropped (about half
# of node_modules, none of it loaded at run time).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -delete

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="chaperone" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module": the compiled dist/**/*.js are ES modules.
COPY --from=deps /app/package.json ./
USER 65532:65532

# The admission webhook and policy control plane. Kubernetes `args:` append flags to the
# ENTRYPOINT (distroless' own ENTRYPOINT is bare node, so the script must be part of it).
FROM runtime AS chaperone-controller
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/api ./dist/api
COPY --from=build /src/dist/webhook ./dist/webhook
EXPOSE 9443
ENTRYPOINT ["/nodejs/bin/node", "dist/webhook/src/main.js"]
CMD []

# The egress sidecar injected into pods: its bundle (main.js), the policy validator and the native
# function that drops start-up pages beside it, and the chunks only some configurations load; no
# node_modules.
FROM runtime AS chaperone-proxy
COPY --from=build /src/dist/sidecar/src/main.js /src/dist/sidecar/src/validate-child.js /src/dist/sidecar/src/page-trim.node ./dist/sidecar/src/
COPY --from=build /src/dist/sidecar/src/chunks ./dist/sidecar/src/chunks
EXPOSE 15000 15001 15020
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "--min-semi-space-size=8", "--no-memory-reducer-favors-memory", "dist/sidecar/src/main.js"]
CMD []
