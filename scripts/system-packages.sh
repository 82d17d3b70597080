#!/usr/bin/env bash
# Make sure the Debian packages a make target needs are installed.
#   scripts/system-packages.sh lab|test|bench|hub
# As root it installs what is missing with apt-get; otherwise it prints the one command to run.
# Checks by what is there (a file, a command), so a non-Debian machine that already has them passes.
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
    ;;
esac

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
# unique, in order
readarray -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-packages: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "system-packages: missing ${missing[*]}. Install them with:" >&2
echo "    sudo apt-get install -y ${missing[*]}" >&2
exit 1
