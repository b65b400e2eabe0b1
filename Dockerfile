# The Roomwatch hub in a container, installed from the packed tarball exactly as
# test/install/pack.test.ts installs and runs it (npm install --omit=dev, the compiled hub).
# No Docker engine runs where this was written, so this file only does what that test proves;
# docs/INSTALL.md "Docker" says how to build and run it.
#
#   npm pack                          # roomwatch-0.1.0.tgz, built by the prepare script
#   docker build -t roomwatch .       # .dockerignore sends only the tarball
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /opt/roomwatch
COPY roomwatch-*.tgz /tmp/
RUN echo '{ "private": true }' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/roomwatch-*.tgz \
 && npm cache clean --force \
 && rm /tmp/roomwatch-*.tgz

# A user of its own, owning only the data volume. Its home holds the CLI's saved login.
RUN useradd --system --create-home --home-dir /home/roomwatch --shell /usr/sbin/nologin roomwatch \
 && mkdir /data && chown roomwatch:roomwatch /data && chmod 0700 /data
USER roomwatch
VOLUME /data

# roomwatch-hub, roomwatch (the CLI) and roomwatch-sensors on the PATH, for docker exec.
ENV PATH=/opt/roomwatch/node_modules/.bin:$PATH \
    ROOMWATCH_DATA=/data \
    ROOMWATCH_LOG_FILE=none \
    ROOMWATCH_HOST=0.0.0.0
EXPOSE 7777 8080

# The health check is node's own fetch (the slim image has no curl); 503 (the store cannot
# commit) counts as unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ROOMWATCH_HTTP_PORT || 8080) + '/api/v1/health').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

# SIGTERM: the hub commits what it holds and exits 0 (give it time: docker stop -t 60).
STOPSIGNAL SIGTERM
CMD ["node", "/opt/roomwatch/node_modules/roomwatch/.build/server/hub.js"]
