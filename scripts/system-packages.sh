#!/usr/bin/env bash
# Make sure the Debian packages a make target needs are installed.
#   scripts/system-packages.sh lab|test|bench|hub
# As root it installs what is missing with apt-get; otherwise it prints the one command to run.
# Checks by what is there (a file, a command), so a non-Debian machine that already has them passes.
# SYSTEM_PACKAGES_DRY_RUN=1 prints what it would install and do, and changes nothing.
set -euo pipefail

profile=${1:-test}
missing=()

need_file() {  # PACKAGE FILE-GLOB...
  local pkg=$1; shift
  local f
  for f in "$@"; do
    compgen -G "$f" >/dev/null && return 0
  done
  missing+=("$pkg")
}
need_cmd() {  # PACKAGE COMMAND
  command -v "$2" >/dev/null 2>&1 || missing+=("$1")
}

python=${PYTHON:-python3}
need_cmd python3 "$python"
# Debian splits venv/ensurepip out of python3.
if command -v "$python" >/dev/null 2>&1 && ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
# libgnutls itself: conda/Binder brings its own under sys.prefix.
need_file libgnutls30 /usr/lib/*/libgnutls.so.30 /usr/lib/libgnutls.so.30 /lib/*/libgnutls.so.30 \
  "${CONDA_PREFIX:-/nonexistent}/lib/libgnutls.so.30"

# A C compiler and the Python headers build the optional C pipe (gnutls_lab/binding/_memio.c) at install time;
# without them the lab still runs, on the slower Python pipe. The tests require the C pipe.
need_cmd gcc gcc
if command -v "$python" >/dev/null 2>&1 && ! "$python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' >/dev/null 2>&1; then
  missing+=(python3-dev)
fi

case $profile in
  lab)
    need_cmd openssl openssl  # notebook 02 sets `openssl sess_id -text` beside gnutls-lab's report
    ;;
  test|bench)
    need_cmd pkg-config pkg-config
    need_file libgnutls28-dev /usr/include/gnutls/gnutls.h
    need_cmd make make
    ;;
esac
case $profile in
  hub)  # make hub / test-hub (deploy/hub/): node for configurable-http-proxy, accounts for the participants
    need_cmd nodejs node
    need_cmd npm npm
    need_cmd passwd useradd
    need_cmd util-linux runuser
    need_cmd openssl openssl
    ;;
esac
case $profile in
  test)
    need_cmd gnutls-bin gnutls-cli
    need_cmd openssl openssl
    need_cmd chromium chromium
    # Real GnuTLS programs for `gnutls-lab spy` (tests/test_spy.py), and libcurl's GnuTLS flavour to build against.
    need_cmd wget wget
    need_cmd wget2 wget2
    need_file libcurl4-gnutls-dev /usr/include/*/curl/curl.h /usr/include/curl/curl.h
    need_cmd tshark tshark  # tests/test_pcapng.py: Wireshark's dissector checks the pcapng export
    # Real servers for tests/test_real_servers.py and the audit (gnutls_lab/network/_real_servers.py), each
    # run by the tests in the foreground on 127.0.0.1 with its own configuration; plus testssl.sh to compare.
    need_file nginx /usr/sbin/nginx
    need_file apache2 /usr/sbin/apache2
    need_file lighttpd /usr/sbin/lighttpd
    for tls_module in gnutls openssl mbedtls wolfssl; do
      need_file "lighttpd-mod-$tls_module" "/usr/lib/lighttpd/mod_$tls_module.so"
    done
    need_file haproxy /usr/sbin/haproxy
    need_file caddy /usr/bin/caddy
    need_file exim4-daemon-heavy /usr/sbin/exim4 && \
      need_file exim4-daemon-heavy /usr/share/doc/exim4-daemon-heavy/copyright  # GnuTLS with TLS resumption
    need_cmd testssl.sh testssl
    ;;
esac

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
# unique, in order
readarray -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
# Debian's maintainer scripts start a service on install (nginx, apache2, lighttpd, haproxy, caddy and exim4
# would listen on 0.0.0.0:80, 443 or 25). A policy-rc.d that exits 101 forbids that (invoke-rc.d and
# deb-systemd-invoke ask it); it is in place only while apt-get runs, and any earlier one is put back.
policy=/usr/sbin/policy-rc.d
saved_policy=$policy.gnutls-lab-saved
block_services() {
  if [ -e "$policy" ] || [ -L "$policy" ]; then mv -f "$policy" "$saved_policy"; fi
  printf '#!/bin/sh\n# gnutls-lab scripts/system-packages.sh: no service starts while packages install\nexit 101\n' \
    > "$policy"
  chmod 755 "$policy"
}
restore_services() {
  rm -f "$policy"
  if [ -e "$saved_policy" ] || [ -L "$saved_policy" ]; then mv -f "$saved_policy" "$policy"; fi
}
# If a Debian service started anyway, stop it by the PID in its own pid file (never by name: the tests run
# their own nginx, apache2... from temporary folders, which write no pid file here).
stop_debian_services() {
  local pidfile pid
  for pidfile in /run/nginx.pid /run/apache2/apache2.pid /run/lighttpd.pid /run/haproxy.pid \
                 /run/exim4/exim.pid /run/caddy.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(head -c 32 "$pidfile" | tr -dc 0-9)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "system-packages: stopping the service that started anyway (pid $pid from $pidfile)" >&2
      kill "$pid" 2>/dev/null || true
    fi
  done
}
apt_get=(apt-get -o DPkg::Lock::Timeout=600)
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-packages: installing ${missing[*]}" >&2
  if [ -n "${SYSTEM_PACKAGES_DRY_RUN:-}" ]; then
    echo "system-packages: dry run: would put a policy-rc.d exiting 101 at $policy" \
         "($([ -e "$policy" ] && echo "saving the present one" || echo "none there now"))," \
         "run: ${apt_get[*]} update -qq; ${apt_get[*]} install -y -qq --no-install-recommends ${missing[*]}," \
         "then restore $policy and stop any Debian service that started anyway" >&2
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  block_services
  trap restore_services EXIT
  "${apt_get[@]}" update -qq >/dev/null
  "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  restore_services
  trap - EXIT
  stop_debian_services
  exit 0
fi
echo "system-packages: missing ${missing[*]}. Install them with:" >&2
echo "    sudo apt-get install -y ${missing[*]}" >&2
echo "(as root this script also keeps their services from starting: see policy-rc.d above)" >&2
exit 1
