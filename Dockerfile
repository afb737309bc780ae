# Multi-stage build: a static binary with version ldflags on a distroless,
# non-root base. The configuration is mounted from a volume at /etc/vbs_exporter.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION defaults to the VERSION file; REVISION is passed by the builder
# (docker build --build-arg REVISION=$(git rev-parse --short HEAD) .).
ARG VERSION=
ARG REVISION=unknown
RUN VERSION="${VERSION:-$(cat VERSION)}" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=main \
        -X github.com/prometheus/common/version.BuildUser=docker" \
      -o /out/vbs_exporter .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vbs_exporter /bin/vbs_exporter
USER 65532:65532
EXPOSE 10097
VOLUME ["/etc/vbs_exporter"]
ENTRYPOINT ["/bin/vbs_exporter"]
CMD ["--config.file=/etc/vbs_exporter/vbs.yml"]
