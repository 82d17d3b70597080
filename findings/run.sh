#!/bin/sh
# Build and run every finding's repro.c against the libgnutls that pkg-config finds.
#   findings/run.sh            # the named cases
#   findings/run.sh --sweep    # set-data-crash and forged-ticket-crash also flip every bit (their sweeps)
# Binaries go to a temporary directory, removed on exit. Exit status: 0 if all programs ran.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=$(pkg-config --cflags --libs gnutls)
status=0
for dir in "$here"/*/; do
  name=$(basename "$dir")
  [ -f "$dir/repro.c" ] || continue
  echo "== $name"
  # shellcheck disable=SC2086  # flags are words
  ${CC:-cc} -Wall -o "$out/$name" "$dir/repro.c" $flags
  case $name in
    set-data-crash|forged-ticket-crash) "$out/$name" "$@" || status=1 ;;
    *) "$out/$name" || status=1 ;;
  esac
done
exit $status
