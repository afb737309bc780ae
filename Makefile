# vbs_exporter — build, test, benchmark.
GO        ?= go
PKG       := github.com/vbs-exporter/vbs_exporter
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
REVISION  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILDDATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
LDFLAGS   := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION) \
	-X github.com/prometheus/common/version.Branch=$(BRANCH) \
	-X github.com/prometheus/common/version.BuildUser=vbs_exporter \
	-X github.com/prometheus/common/version.BuildDate=$(BUILDDATE)
FUZZTIME  ?= 30s
DOCKER        ?= docker
DOCKER_IMAGE  ?= vbs_exporter
DOCKER_TAG    ?= $(VERSION)

# Current upstream releases for `make e2e-current` (Debian's, used by CI, are
# older). Alertmanager modules after v0.28 do not build with `go install`
# without their UI assets.
PROMETHEUS_CURRENT   ?= v0.316.0
ALERTMANAGER_CURRENT ?= v0.28.1
CURRENT_BIN          ?= $(CURDIR)/.cache/current

.PHONY: all build docker test vet lint unit check-metrics check-alerts check-deploy check-mixin mixin e2e e2e-current bench fuzz prometheusrule clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o vbs_exporter .

## docker: the image, with this checkout's version, revision, branch and build date.
docker:
	$(DOCKER) build \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$(REVISION) \
		--build-arg BRANCH=$(BRANCH) \
		--build-arg BUILD_DATE=$(BUILDDATE) \
		-t $(DOCKER_IMAGE):$(DOCKER_TAG) .

## test: everything CI runs — vet, staticcheck, unit and integration tests under -race
## (fuzz seed corpora included), promtool on a real scrape, alert rules and
## their unit tests, the PrometheusRule check, the mixin's rendered files
## up to date.
test: vet lint unit check-metrics check-mixin check-alerts check-deploy

vet:
	$(GO) vet ./...

## lint: staticcheck, pinned as a tool in go.mod (go get -tool ...@version to move it).
lint:
	$(GO) tool staticcheck ./...

## unit: the race detector otherwise sleeps 1 s as each test binary exits,
## waiting for reports from goroutines still running: 16 packages, about 8 s
## of the run on 2 cores. A race is reported, and fails its test, when it
## happens. A GORACE of your own comes after, and wins.
unit:
	GORACE="$(strip atexit_sleep_ms=0 $(GORACE))" $(GO) test -race -count=1 ./...

check-metrics: build
	./scripts/check-metrics.sh ./vbs_exporter

check-alerts:
	./alerts/check.sh

check-deploy:
	./deploy/check-prometheusrule.sh

## mixin: render the monitoring mixin (mixin/, jsonnet) with go-jsonnet into
## alerts/vbs_exporter.rules.yml, dashboards/vbs-overview.json and
## deploy/kubernetes/prometheusrule.yaml. Edit mixin/, never those files.
mixin:
	GO=$(GO) ./mixin/render.sh

## check-mixin: fails when a rendered file is stale (renders into a temporary
## directory and diffs). The dashboard's lint is `go test ./mixin/` (in unit);
## e2e runs every dashboard query on a real Prometheus; dashboards/check.sh
## (jq, promtool) checks they parse, or run on PROMETHEUS_URL.
check-mixin:
	GO=$(GO) ./mixin/check.sh

## e2e: only the tests of the built binary (e2e/: on the simulator, TLS, real Prometheus
## and Alertmanager), built once in TestMain (also part of unit).
e2e:
	$(GO) test -race -count=1 -v ./e2e/

## e2e-current: the end-to-end test against current Prometheus and
## Alertmanager releases, built with `go install` into CURRENT_BIN (one
## directory per version; several minutes the first time). Not run in CI.
e2e-current:
	GOBIN=$(CURRENT_BIN)/prometheus-$(PROMETHEUS_CURRENT) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_CURRENT)
	GOBIN=$(CURRENT_BIN)/alertmanager-$(ALERTMANAGER_CURRENT) $(GO) install github.com/prometheus/alertmanager/cmd/alertmanager@$(ALERTMANAGER_CURRENT)
	E2E_PROMETHEUS=$(CURRENT_BIN)/prometheus-$(PROMETHEUS_CURRENT)/prometheus \
	E2E_ALERTMANAGER=$(CURRENT_BIN)/alertmanager-$(ALERTMANAGER_CURRENT)/alertmanager \
		$(GO) test -race -count=1 -v -run TestPrometheusAlertmanager ./e2e/

## bench: scrape cost, cached vs naive, end to end over HTTP and per refresh, on simulator histories (see README, Performance).
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkScrapeHTTP' -benchtime 1x -timeout 60m .
	$(GO) test -run '^$$' -bench 'BenchmarkScrape|BenchmarkCacheMemory|BenchmarkRender' -benchtime 1x -timeout 60m ./internal/store/

## fuzz: each fuzz target for FUZZTIME.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTasksPage$$' -fuzztime $(FUZZTIME) ./internal/vbs/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePolicies$$' -fuzztime $(FUZZTIME) ./internal/vbs/
	$(GO) test -run '^$$' -fuzz '^FuzzParseTime$$' -fuzztime $(FUZZTIME) ./internal/vbs/
	$(GO) test -run '^$$' -fuzz '^FuzzParseErrorBody$$' -fuzztime $(FUZZTIME) ./internal/vbs/
	$(GO) test -run '^$$' -fuzz '^FuzzIAMTokenResponse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/vbs/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config/
	$(GO) test -run '^$$' -fuzz '^FuzzHostileProbeQuery$$' -fuzztime $(FUZZTIME) .

## prometheusrule: kept for habit; the PrometheusRule is rendered by the mixin.
prometheusrule: mixin

clean:
	rm -f vbs_exporter
