# Multi-stage build: a static binary with version ldflags on a distroless,
# non-root base. The configuration is mounted from a volume at /etc/vbs_exporter.
#
# `make docker` passes the build arguments from git; by hand:
#   docker build \
#     --build-arg REVISION=$(git rev-parse --short HEAD) \
#     --build-arg BRANCH=$(git rev-parse --abbrev-ref HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y%m%d-%H:%M:%S) -t vbs_exporter .
# The build context has no .git (see .dockerignore), so REVISION and BRANCH
# cannot be found inside; BUILD_DATE defaults to the time of the build and
# VERSION to the VERSION file.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=
# The Makefile holds the one list of version ldflags.
RUN make build \
      VERSION="${VERSION:-$(cat VERSION)}" \
      REVISION="${REVISION}" \
      BRANCH="${BRANCH}" \
      BUILDDATE="${BUILD_DATE:-$(date -u +%Y%m%d-%H:%M:%S)}" \
 && mkdir -p /out && mv vbs_exporter /out/vbs_exporter

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=
ARG REVISION=unknown
ARG BUILD_DATE=
LABEL org.opencontainers.image.title="vbs_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Huawei Cloud VBS backup jobs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}"
COPY --from=build /out/vbs_exporter /bin/vbs_exporter
USER 65532:65532
EXPOSE 10097
VOLUME ["/etc/vbs_exporter"]
ENTRYPOINT ["/bin/vbs_exporter"]
CMD ["--config.file=/etc/vbs_exporter/vbs.yml"]
