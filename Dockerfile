# syntax=docker/dockerfile:1

# ---------------------------------------------------------------------------
# Build stage: compile the release binary.
# The whole build context is copied (see .dockerignore for what is left out),
# so new top-level inputs such as migrations/ or config/ need no change here.
# ---------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder

WORKDIR /src
COPY . .

# Cache mounts keep the cargo registry and target dir between builds; the
# binary is copied out of the cached target dir inside the same RUN.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin skyhook \
    && install -m 0755 target/release/skyhook /usr/local/bin/skyhook

# ---------------------------------------------------------------------------
# Runtime stage: small Debian with CA roots only (TLS is pure rustls, no OpenSSL).
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# ca-certificates follows the bookworm security channel; pinning it would only
# block security updates, so DL3008 is silenced deliberately.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 skyhook \
    && useradd --system --uid 10001 --gid skyhook \
        --home-dir /var/lib/skyhook --no-create-home \
        --shell /usr/sbin/nologin skyhook \
    && mkdir -p /var/lib/skyhook \
    && chown skyhook:skyhook /var/lib/skyhook

COPY --from=builder /usr/local/bin/skyhook /usr/local/bin/skyhook

WORKDIR /var/lib/skyhook
# Numeric ids so runtimes enforcing runAsNonRoot can verify them.
USER 10001:10001

ENV SKYHOOK_SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["skyhook", "healthcheck"]

ENTRYPOINT ["skyhook"]
CMD ["serve"]
