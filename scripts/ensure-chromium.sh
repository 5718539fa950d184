#!/usr/bin/env bash
# Make sure the system tools that Tiaojie's browser quality tests need are present:
#   - Debian's Chromium at /usr/bin/chromium (driven by Playwright) + CJK fonts
#   - java (runs the Nu HTML Checker, vnu.jar)
#   - node / npm (install axe-core and vnu-jar: npm ci --prefix tests/tools --ignore-scripts)
#
# Idempotent and fast when everything is present (no apt calls at all).
# As root, missing Debian packages are installed non-interactively.
# As another user, prints the exact command to run and exits 1.
set -euo pipefail

missing=()   # Debian packages to install

has_fonts_cjk() {
    # Cheap check (no fontconfig scan): the Debian package, or any Noto CJK font file.
    # (No pipes: with pipefail, an early-exiting `grep -q` could fail the check.)
    [[ $(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null || true) == *"ok installed"* ]] \
        || compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK-*' >/dev/null
}

if [[ ! -x /usr/bin/chromium ]]; then
    missing+=(chromium fonts-noto-cjk)
elif ! has_fonts_cjk; then
    missing+=(fonts-noto-cjk)   # Chinese text renders as tofu in screenshots without it
fi
if ! command -v java >/dev/null 2>&1; then
    missing+=(default-jre-headless)
fi
if ! command -v node >/dev/null 2>&1; then
    missing+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
    # node present but no npm. Debian's npm package conflicts with NodeSource's
    # nodejs (which bundles npm), so only add it for Debian's nodejs.
    if [[ $(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true) == *nodesource* ]]; then
        echo "ensure-chromium: NodeSource nodejs is installed but npm is not on PATH;" >&2
        echo "ensure-chromium: reinstall it (apt-get install --reinstall nodejs), which bundles npm." >&2
        exit 1
    fi
    missing+=(npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-chromium: missing system packages: ${missing[*]}" >&2
    echo "ensure-chromium: install them with:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "ensure-chromium: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Verify.
status=0
if [[ ! -x /usr/bin/chromium ]]; then
    echo "ensure-chromium: /usr/bin/chromium still missing after install" >&2
    status=1
fi
if ! command -v java >/dev/null 2>&1; then
    echo "ensure-chromium: java still missing after install" >&2
    status=1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ensure-chromium: node/npm still missing after install" >&2
    status=1
fi
if ! has_fonts_cjk; then
    echo "ensure-chromium: fonts-noto-cjk still missing after install" >&2
    status=1
fi
if [[ $status -eq 0 ]]; then
    echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), java, node $(node --version) ready" >&2
fi
exit $status
