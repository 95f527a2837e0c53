# Fanout: the GitHub App and its CLI. Node 24 is the current LTS; the code also runs on Node 20.18+.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# Agents and validation need git; bubblewrap sandboxes agent commands.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates bubblewrap \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
RUN mkdir -p /data && chown node:node /data
COPY bin ./bin
USER node
EXPOSE 3000
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The sandbox (bubblewrap) needs user namespaces: run with
#   --security-opt seccomp=unconfined --security-opt apparmor=unconfined
# and keep FANOUT_STATE_DIR on a volume, so a restart continues stored commands and runs.
ENV FANOUT_STATE_DIR=/data
VOLUME /data
ENTRYPOINT ["node", "bin/fanout.js"]
CMD ["serve"]
