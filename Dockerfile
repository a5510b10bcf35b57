# syntax=docker/dockerfile:1
#
# berth: one image for both processes; docker-compose.yml picks one with `command`.
#
#   API     node --import tsx src/api/main.ts   (the default CMD)
#   worker  node --import tsx src/worker.ts     (needs the Docker socket mounted)
#
# berth runs its TypeScript sources directly with tsx, which is a runtime dependency in
# package.json ("dependencies", not "devDependencies"), so the production install
# (--omit=dev) keeps it and no build step is needed. The worker bundles
# src/workflows/index.ts with the Temporal SDK's bundler when it starts (a few seconds).
#
# Configuration comes only from the environment (see src/config.ts and .env.example).

ARG NODE_VERSION=20

# ---- dependencies (production only) ----
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` rather than `npm ci`: the checked-in lock file lacks other platforms'
# optional packages (@swc/core-*, @rollup/rollup-*), which `npm ci` refuses as out of
# sync. `npm install` still follows the lock file's versions; --no-save leaves it as is.
RUN npm install --omit=dev --no-save --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

# ---- runtime ----
FROM node:${NODE_VERSION}-slim
# BERTH_API_HOST: listen on every interface inside the container (config default: loopback).
ENV NODE_ENV=production \
    BERTH_API_HOST=0.0.0.0 \
    BERTH_API_PORT=3000 \
    BERTH_DATA_DIR=/var/lib/berth
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
RUN mkdir -p /var/lib/berth && chown node:node /var/lib/berth
# Not root. The processes that talk to Docker (worker, API data plane) get the socket's
# group with `group_add` in docker-compose.yml.
USER node
# 3000: API; 9464: worker's Temporal SDK metrics (Prometheus), scraped by the API's /metrics.
EXPOSE 3000 9464
CMD ["node", "--import", "tsx", "src/api/main.ts"]
