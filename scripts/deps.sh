#!/usr/bin/env bash
# Install what building, running and testing need, from Debian 12 packages.
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config
      libxapian-dev libmicrohttpd-dev libjansson-dev libcsv-dev libcurl4-openssl-dev
      libsqlite3-dev libsodium-dev python3 curl manpages-zh fortunes-zh
      libmagic-dev libleptonica-dev libtesseract-dev tesseract-ocr tesseract-ocr-chi-sim
      tesseract-ocr-eng libpoppler-glib-dev libcairo2-dev libarchive-dev libxml2-dev
      python3-pil python3-cairo fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai
      fonts-wqy-zenhei chromium
      clang libclang-rt-14-dev)  # the fuzz harnesses: clang and its libFuzzer/sanitizer runtimes
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The browser tests drive Debian's chromium with playwright-core from npm
# (pinned in tests/e2e/package-lock.json).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi
