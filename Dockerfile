# CMR Server — production image.
# Node.js 26 (LTS), as `engines` and the suite.
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY web/package.json ./web/
# Scripts run once the sources are in (the only package with an install script is a dev tool's).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY sip ./sip
COPY scripts ./scripts
COPY web ./web
# The runtime is the image's own Node, not the platform package the project brings for
# development machines (an optional dependency).
RUN npm run build && npm prune --omit=dev --omit=optional

FROM node:26-bookworm-slim
ENV NODE_ENV=production \
    CMR_HTTP_HOST=0.0.0.0 \
    CMR_SIP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The tone cache (CMR_MEDIA_CACHE_DIR in docker-compose.yml): a volume created here is the server's.
RUN mkdir -p /var/cache/cmr-media && chown node:node /var/cache/cmr-media
USER node
# 5062: SIP over WebSocket for handsets, when CMR_SIP_WS_PORT=5062 (embedded front).
EXPOSE 8080 5060/udp 5060/tcp 5062/tcp
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.CMR_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
