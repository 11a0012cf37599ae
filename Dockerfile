# Multi-stage build of the receiver (README "Docker"). Where no registry is reachable, the base
# image is an argument: any Debian bookworm image with Node.js 20, python3, make and g++.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
# better-sqlite3, zstd-napi and our AES-GCM binding (binding.gyp, native/) compile from source
# (.npmrc build-from-source): python3, make, g++, against the headers of the Node.js that runs the
# build (its prefix's include/node) rather than headers node-gyp would download: only npm's
# registry is reachable from the build machines.
COPY package.json package-lock.json .npmrc binding.gyp ./
COPY native ./native
RUN npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")" npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM ${BASE_IMAGE}
ENV NODE_ENV=production \
    ST_HOST=0.0.0.0 \
    ST_PORT=9000 \
    ST_OUTPUT_DIR=/data/received \
    DB_PATH=/data/db/securetransfer.db \
    ST_HOST_KEY_PATH=/data/db/securetransfer_host_key \
    ST_LOG_PATH=/data/logs/securetransfer.log
WORKDIR /app
RUN groupadd --system securetransfer && useradd --system --gid securetransfer --home-dir /app securetransfer \
 && mkdir -p /data/received /data/db /data/logs /data/keys && chown -R securetransfer:securetransfer /data
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/build/Release/openssl_aead.node ./build/Release/openssl_aead.node
COPY --from=build --chown=root:root /app/package.json ./package.json
USER securetransfer
VOLUME ["/data/received", "/data/db", "/data/logs"]
EXPOSE 9000
# Healthy when the receiver's port is listening, read from /proc/net/tcp{,6}: a probe that
# connected would count as a failed handshake (toward a ban of 127.0.0.1) and fill the audit.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "const p=':'+Number(process.env.ST_PORT).toString(16).toUpperCase().padStart(4,'0');const fs=require('fs');const ok=['/proc/net/tcp','/proc/net/tcp6'].some(f=>{try{return fs.readFileSync(f,'utf8').split('\n').some(l=>{const c=l.trim().split(/\s+/);return c[1]!==undefined&&c[1].endsWith(p)&&c[3]==='0A'})}catch(e){return false}});process.exit(ok?0:1)"
ENTRYPOINT ["node", "dist/bundle/securetransfer.js"]
CMD ["receive"]
