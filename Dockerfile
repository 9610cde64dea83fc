# syntax=docker/dockerfile:1
# asa's container image: built in the Rust image, run from Debian slim as a non-root user.
#
#   docker build -t asa .          (or: podman build -t asa .)
#   docker run -p 8080:8080 asa    (SQLite in the /var/lib/asa volume; sandbox key in the log)
#
# compose.yaml runs two of these on PostgreSQL and Redis; README, "Run it in production".
# The image has no shell tools for health checks: `asa probe` asks the node's /readyz.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM docker.io/library/rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# The slim Rust image has the C compiler that bundled SQLite and ring need.
WORKDIR /src
COPY . .
# Line tables only help a debugger, which the runtime image has not; symbols stay, for
# readable backtraces.
ENV CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=debuginfo
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p asa-cli \
    && install -D -m 0755 target/release/asa /out/asa

FROM docker.io/library/debian:${DEBIAN_RELEASE}-slim
# One unprivileged user owns the data folder (the SQLite database, pages the extractor
# could not read); the binary needs nothing else from the system: rustls carries its own
# root certificates.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/asa --create-home \
        --shell /usr/sbin/nologin asa
COPY --from=build /out/asa /usr/local/bin/asa
USER asa
WORKDIR /var/lib/asa
ENV ASA_LISTEN=0.0.0.0:8080 \
    ASA_DATABASE_URL=sqlite:///var/lib/asa/asa.db \
    ASA_FAILURES_DIR=/var/lib/asa/failures
VOLUME ["/var/lib/asa"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["asa", "probe", "--timeout", "4s"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["asa"]
CMD ["serve"]
