#!/usr/bin/env bash
# Installs what the integration tests run against, without Docker:
#   - redis-server from Debian's packages (only if not already on PATH),
#   - chromium from Debian's packages, for the auditor page's browser tests (only if not on PATH),
#   - the Apache Kafka broker jars from Maven Central (only if not already cached).
# Idempotent: a second run does nothing and takes well under a second.
#
# Environment:
#   FLAGLINE_KAFKA_LIBS  where the Kafka jars go (default: <repo>/.infra/kafka/libs)
#   MAVEN_REPO_LOCAL     Maven's local repository (default: Maven's own, ~/.m2/repository)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pom="$here/kafka/pom.xml"
libs="${FLAGLINE_KAFKA_LIBS:-$repo/.infra/kafka/libs}"
marker="$libs/.installed"

fail() {
  echo "tools/infra/install.sh: $*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    fail "need root (or sudo) to run: $*"
  fi
}

# Installs a Debian package when the command it provides is not on PATH: install_apt <command> <package> <what it is for>.
install_apt() {
  local command="$1" package="$2" purpose="$3"
  if command -v "$command" >/dev/null 2>&1; then
    return
  fi
  command -v apt-get >/dev/null 2>&1 ||
    fail "$command is not on PATH and apt-get is not available: install $package ($purpose) by other means"
  echo "installing $package (apt-get)"
  local log
  log="$(mktemp)"
  # The package index is refreshed only when needed: an update costs more than the install.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >"$log" 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1 || { cat "$log" >&2; fail "apt-get update failed"; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >>"$log" 2>&1 ||
      { cat "$log" >&2; fail "apt-get install $package failed"; }
  fi
  rm -f "$log"
  command -v "$command" >/dev/null 2>&1 || fail "$package was installed but $command is not on PATH"
}

pom_hash() {
  sha256sum "$pom" | cut -d' ' -f1
}

install_kafka() {
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(pom_hash)" ]; then
    return
  fi
  command -v java >/dev/null 2>&1 ||
    fail "java is not on PATH: the Kafka broker needs Java 17 (Debian: apt-get install -y openjdk-17-jre-headless)"
  command -v mvn >/dev/null 2>&1 ||
    fail "mvn is not on PATH: fetching the Kafka jars needs Maven (Debian: apt-get install -y maven)"
  echo "fetching Kafka broker jars (Maven Central) into $libs"
  # A changed pom (a version bump) replaces the whole folder: stale jars on a wildcard classpath clash.
  rm -rf "$libs"
  local tmp="$libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local repo_args=()
  if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then
    repo_args=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
  fi
  local log="$libs.log"
  if ! mvn -q -B -Dstyle.color=never -f "$pom" "${repo_args[@]}" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$log" 2>&1; then
    cat "$log" >&2
    rm -rf "$tmp"
    fail "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
  fi
  rm -f "$log"
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; fail "no kafka_2.13 jar was fetched"; }
  pom_hash >"$tmp/.installed"
  mv -T "$tmp" "$libs"
}

install_apt redis-server redis-server "Redis 7, for the integration suites"
install_apt chromium chromium "the headless browser of the auditor page's tests"
install_kafka
echo "infra ready: $(redis-server --version | cut -d' ' -f1-3), $(chromium --version 2>/dev/null | head -n1), Kafka jars in $libs"
