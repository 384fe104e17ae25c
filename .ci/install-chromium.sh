#!/usr/bin/env bash
# Debian's Chromium for the Lighthouse gate's real-tool tests (lighthouse from npm drives it
# headless). Idempotent: no apt call when /usr/bin/chromium is already there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
# Only bookworm's own sources: the sid entry install-tools.sh adds is pinned low, so apt keeps
# chromium and its libraries on the stable release.
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null || { echo "install-chromium: chromium did not install" >&2; exit 1; }
