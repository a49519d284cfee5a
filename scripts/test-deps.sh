#!/usr/bin/env bash
# System tools some tests need, installed from Debian's packages when missing (CI runs as root).
set -euo pipefail
missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)  # store tests
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "tests need: ${missing[*]} (install them, then run make test again)" >&2
        exit 1
    fi
fi
