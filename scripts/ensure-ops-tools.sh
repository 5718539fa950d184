#!/usr/bin/env bash
# System tools that the operations tests (tests/ops/) use, as docs/deploy.md installs them:
#   caddy (the TLS proxy), pg_dump/pg_restore (postgresql-client), systemd-analyze (systemd).
# Idempotent; as root, missing Debian packages are installed, otherwise the command is printed.
set -euo pipefail

missing=()
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-ops-tools: missing system packages: ${missing[*]}" >&2
    echo "ensure-ops-tools: install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "ensure-ops-tools: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packaged caddy.service from starting on ports 80/443 of a test machine.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v caddy >/dev/null 2>&1 && command -v pg_dump >/dev/null 2>&1
