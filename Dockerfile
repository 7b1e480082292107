# Builds the dvc-api binary and runs it on a slim base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p dvc-api

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /srv/dvc dvc && mkdir -p /srv/dvc/data && chown dvc /srv/dvc/data
WORKDIR /srv/dvc
COPY --from=build /src/target/release/dvc-api /usr/local/bin/dvc-api
COPY --from=build /src/data/dvhc /srv/dvc/data/dvhc
USER dvc
ENV DVC_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["dvc-api"]
CMD ["serve"]
