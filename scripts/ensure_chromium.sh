#!/bin/sh
# Make Debian's Chromium available for the browser tests (pytest -m browser).
#
# The tests drive /usr/bin/chromium through Playwright; they never use a browser
# downloaded by `playwright install`, so clinics on closed networks and CI images
# only need the distribution package. Installs it when missing and we are root;
# otherwise says how to install it and fails. CHROMIUM overrides the path checked.
set -eu

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium package for the browser tests ..." >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
    exit 0
fi

echo "Chromium is missing at $CHROMIUM; the browser tests need Debian's package." >&2
echo "Install it as root:  apt-get update && apt-get install -y chromium" >&2
exit 1
