# syntax=docker/dockerfile:1
#
# One image per service, from one Dockerfile:
#   docker build --build-arg SERVICE=users -t conveyor/users .
#   docker build --build-arg SERVICE=orders -t conveyor/orders .
#   docker build --build-arg SERVICE=notifications -t conveyor/notifications .
#   docker build --build-arg SERVICE=gateway -t conveyor/gateway .   (HTTP edge + web console)
# Node 24 runs the TypeScript sources directly (ADR 0001): no build step, so the image holds
# the sources the service needs and its production dependencies, nothing else.
# The same image runs the service (default command) and its migrations:
#   docker run --rm conveyor/users src/migrate.ts
# Pin the base by digest in CI (`--build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:…`).

ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# ── production dependencies of one service and the workspace packages it uses ──────────────────
FROM ${NODE_IMAGE} AS deps
ARG SERVICE
WORKDIR /app
# Only the manifests: this layer is rebuilt when dependencies change, not when code does.
COPY package.json package-lock.json .npmrc ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY services/${SERVICE}/package.json services/${SERVICE}/
# `npm ci`: exactly the lock (it fails when package.json and the lock disagree). Workspaces not
# copied (stack, cli, the other services) are skipped; --omit=dev drops the root's tooling; no
# dependency of a service needs an install script.
RUN --mount=type=cache,target=/root/.npm \
    test -n "${SERVICE}" || { echo 'build with --build-arg SERVICE=users|orders|notifications|gateway' >&2; exit 1; } \
    && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

# ── runtime ─────────────────────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
# tini as PID 1: forwards SIGTERM to node (whose shutdown.onSignals drains and exits) and reaps zombies.
# Pinned to bookworm's build, so a rebuild installs what was tested.
ARG TINI_VERSION=0.19.0-1+b3
RUN apt-get update \
    && apt-get install -y --no-install-recommends "tini=${TINI_VERSION}" \
    && rm -rf /var/lib/apt/lists/*
# Memory: a capped heap with small semi-spaces and a fixed malloc mmap threshold keep a busy service
# under 200 MB of RSS at the same throughput (ADR 0016; packages/stack/src/process-tuning.ts holds the
# same values for local runs, and test/deploy checks they agree). Add flags to NODE_OPTIONS to override.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8" \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 \
    CONVEYOR_SERVICE=${SERVICE} \
    GRPC_HOST=0.0.0.0 \
    GATEWAY_HOST=0.0.0.0 \
    OPS_HOST=0.0.0.0
WORKDIR /app
# Everything owned by root and read-only for the service's user: the root filesystem can be
# mounted read-only (Kubernetes readOnlyRootFilesystem); nothing is written outside /tmp.
# The whole deps tree: node_modules at the root and any nested ones npm placed in workspaces.
COPY --from=deps /app ./
COPY proto ./proto
COPY packages/contracts ./packages/contracts
COPY packages/platform ./packages/platform
COPY services/${SERVICE} ./services/${SERVICE}
WORKDIR /app/services/${SERVICE}
# The unprivileged `node` user of the official image, by number so runAsNonRoot can verify it.
USER 1000:1000
# Docker and compose health: ready (dependencies answer, not shutting down) on the ops port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "const p=process.env.OPS_PORT||{users:9101,orders:9102,notifications:9103,gateway:9104}[process.env.CONVEYOR_SERVICE];fetch(`http://127.0.0.1:${p}/readyz`).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node"]
CMD ["src/main.ts"]
