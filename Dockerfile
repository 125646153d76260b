# syntax=docker/dockerfile:1
# The desk as a service: `tradecrew serve` with /healthz, /readyz and /metrics on port 8000.
# Build: docker build -t tradecrew .   Run the whole stack: docker compose -f deploy/compose.yaml up

# ---- build: resolve and install the locked dependencies with uv, then the project itself
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.5.31 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first: this layer is reused until pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock README.md crew.yaml ./
RUN uv sync --frozen --no-dev --no-install-project --extra postgres --extra mcp
COPY tradecrew ./tradecrew
RUN uv sync --frozen --no-dev --no-editable --extra postgres --extra mcp

# ---- runtime: the virtual environment only, run by an unprivileged user
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 tradecrew \
    && useradd --system --uid 10001 --gid tradecrew --home-dir /data --create-home tradecrew
COPY --from=build /app/.venv /app/.venv
# TRADECREW_HOME holds the SQLite ledger (when no database URL is set), the audit key and
# its anchor: keep it on a volume. Binding 0.0.0.0 inside the container is the opt-in of
# TRADECREW_SERVE__ALLOW_NETWORK; publish the port on 127.0.0.1 only (see deploy/compose.yaml).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRADECREW_HOME=/data \
    TRADECREW_SERVE__ALLOW_NETWORK=true
USER tradecrew:tradecrew
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["tradecrew"]
CMD ["serve", "--http", "0.0.0.0:8000"]
