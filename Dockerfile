# EODS service image: builds the `eods` binary in a Rust image and ships it alone in a slim
# Debian image (no compiler, no sources). The default command is `eods serve` on port 8080; set
# EODS_DATABASE_URL (postgres://… for several instances, or sqlite:///var/lib/eods/eods.db).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin eods

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/eods --create-home eods
COPY --from=build /src/target/release/eods /usr/local/bin/eods
USER eods
WORKDIR /var/lib/eods
ENV EODS_BIND=0.0.0.0:8080 \
    EODS_DATABASE_URL=sqlite:///var/lib/eods/eods.db
EXPOSE 8080
ENTRYPOINT ["eods"]
CMD ["serve"]
