#!/usr/bin/env bash
# Runs promtool or amtool for the checks of `make test`, wherever they come from:
#
#   1. $PROMTOOL / $AMTOOL, when set (an explicit path or command name);
#   2. the command on PATH (Debian packages "prometheus" and
#      "prometheus-alertmanager", which .ci/run installs);
#   3. otherwise a pinned build from source: `go install MODULE@VERSION` into
#      $VBS_TOOLS_DIR (default: .cache/tools in the repository, git-ignored).
#      The first build downloads and compiles the module (minutes); every
#      later call runs the cached binary at once.
#
# Usage: scripts/tool.sh promtool|amtool [ARGS...]   run the tool
#        scripts/tool.sh --path promtool|amtool      print the path it would run
#                                                    (building it if needed)
# GO selects the go command (default: go).
set -euo pipefail

# The pinned versions: change them here only.
PROMETHEUS_MODULE=github.com/prometheus/prometheus
PROMETHEUS_VERSION=v0.316.0 # Prometheus 3.16.0
ALERTMANAGER_MODULE=github.com/prometheus/alertmanager
ALERTMANAGER_VERSION=v0.34.1

me=scripts/tool.sh
print_path=0
if [ "${1:-}" = "--path" ]; then
	print_path=1
	shift
fi
name=${1:-}
[ $# -gt 0 ] && shift

case "$name" in
promtool)
	override=${PROMTOOL:-}
	pkg=$PROMETHEUS_MODULE/cmd/promtool
	version=$PROMETHEUS_VERSION
	debian=prometheus
	;;
amtool)
	override=${AMTOOL:-}
	pkg=$ALERTMANAGER_MODULE/cmd/amtool
	version=$ALERTMANAGER_VERSION
	debian=prometheus-alertmanager
	;;
*)
	echo "$me: unknown tool \"$name\"; usage: $me [--path] promtool|amtool [ARGS...]" >&2
	exit 2
	;;
esac

# resolve prints the path of the tool, building the pinned version if needed.
resolve() {
	local p
	if [ -n "$override" ]; then
		if p=$(command -v "$override"); then
			echo "$p"
			return
		fi
		echo "$me: $override (from \$${name^^}) is not an executable" >&2
		return 1
	fi
	if p=$(command -v "$name"); then
		echo "$p"
		return
	fi
	local root dir bin gocmd tmp
	root=$(cd "$(dirname "$0")/.." && pwd)
	dir=${VBS_TOOLS_DIR:-$root/.cache/tools}/$name-$version
	bin=$dir/$name
	if [ -x "$bin" ]; then
		echo "$bin"
		return
	fi
	gocmd=${GO:-go}
	if ! command -v "$gocmd" >/dev/null 2>&1; then
		echo "$me: $name is not on PATH and there is no Go toolchain to build it: apt-get install --no-install-recommends $debian, or install Go" >&2
		return 1
	fi
	echo "$me: $name is not on PATH; building $pkg@$version once (go install, may take minutes), cached in $dir" >&2
	mkdir -p "$dir"
	# Build next to the final place and rename, so that a build that fails
	# or is interrupted never leaves a binary that looks cached.
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	if ! GOBIN=$tmp "$gocmd" install "$pkg@$version" >&2 || [ ! -x "$tmp/$name" ]; then
		rm -rf "$tmp"
		echo "$me: building $pkg@$version failed; apt-get install --no-install-recommends $debian instead" >&2
		return 1
	fi
	mv -f "$tmp/$name" "$bin"
	rm -rf "$tmp"
	echo "$bin"
}

path=$(resolve)
if [ "$print_path" -eq 1 ]; then
	echo "$path"
	exit 0
fi
exec "$path" "$@"
