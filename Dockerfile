# The app as one image: `docker build -t chat-app .`, then compose.yaml runs it with PostgreSQL,
# Redis and an S3-compatible store. The steps are `make install`'s, the migrations' and `make
# run`'s own (CI runs the same commands outside a container).

# ---- build: Python packages, bun, and the compiled pages --------------------------------------
FROM python:3.11-slim-bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV VIRTUAL_ENV=/app/.venv PATH=/app/.venv/bin:/app/.tools/node_modules/.bin:$PATH \
    REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=0
COPY requirements.txt ./
RUN python -m venv .venv && pip install --no-cache-dir -r requirements.txt \
 && npm install --silent --no-audit --no-fund --prefix .tools bun@1.4.5
COPY . .
# Compile the pages once here (and fetch their JavaScript packages), so a start needs no registry.
RUN SECRET_KEY=build-only reflex export --frontend-only --no-zip

# ---- run: the same files, as an unprivileged user -------------------------------------------
FROM python:3.11-slim-bookworm
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build --chown=app:app /app /app
ENV VIRTUAL_ENV=/app/.venv PATH=/app/.venv/bin:/app/.tools/node_modules/.bin:$PATH \
    REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=0 \
    MEDIA_DIR=/app/data/media
USER app
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=2).status != 200)"
# Migrations first (an instance that starts against an older schema brings it to head), then the
# app on one port; GRANIAN_WORKERS sets the workers (with REDIS_URL).
CMD ["sh", "-c", "python -m chat_app.migrations && exec reflex run --env prod --single-port --frontend-port 3000 --backend-port 3000 --backend-host 0.0.0.0"]
