# syntax=docker/dockerfile:1
# One image per rtc-sidecars service, built from the repository root:
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=well-known  -t rtc-sidecars/well-known .
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=livekit-jwt -t rtc-sidecars/livekit-jwt .
# compose.yaml does this for both. packages/cli/test/service-image.test.ts runs the build-stage
# steps marked "step:" natively and starts the result, since CI has no Docker engine.

ARG NODE_IMAGE=node:24.21.0-alpine

FROM ${NODE_IMAGE} AS build
ARG SERVICE
ARG PNPM_VERSION=12.4.2
RUN test -n "$SERVICE" || (echo "--build-arg SERVICE=well-known|livekit-jwt is required" >&2; exit 1)
RUN npm install -g --no-fund --no-audit "pnpm@${PNPM_VERSION}"
WORKDIR /src
COPY . .
# Only the service and the workspace packages it needs, with their dev tools (tsc).
RUN pnpm install --frozen-lockfile --filter "@rtc-sidecars/${SERVICE}..."
# tsc writes dist/, then esbuild bundles the service into the one file dist/server.js CMD runs.
# step: build the service and the workspace packages it runs with (tsc to dist/)
RUN pnpm --filter-prod "@rtc-sidecars/${SERVICE}..." run build
# step: deploy the service with production dependencies only
RUN pnpm --filter "@rtc-sidecars/${SERVICE}" deploy --prod /out

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# V8 heap limits, the same flags as the services' start:dist scripts (bench/README.md, "Heap
# limits"): a 4 MiB young-generation semi-space and a 96 MiB old generation keep livekit-jwt's
# anonymous memory under load at about 80 MiB instead of 250 MiB, for 430-480 us of CPU per
# token request against 290-420 us without flags. The healthcheck's node starts with them too
# (harmless for a one-request script).
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=96"
WORKDIR /app
# Files stay owned by root and read-only to the service user; compose also mounts / read-only.
COPY --from=build /out/package.json ./package.json
COPY --from=build /out/node_modules ./node_modules
COPY --from=build /out/dist ./dist
COPY docker/healthcheck.mjs ./healthcheck.mjs
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "dist/server.js"]
