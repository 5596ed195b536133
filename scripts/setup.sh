#!/usr/bin/env bash
# Set up policyqa on a fresh machine: a virtualenv with CPU torch first (a bare `torch` would pull
# a multi-GB CUDA build), then the project with its test extras, then Debian's Chromium for the
# browser tests and LibreOffice (reads .doc/.wps). Idempotent: re-running it only installs what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
pip install --quiet torch==2.13.0
pip install --quiet -e '.[test]'
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
# LibreOffice: writer reads .doc/.wps; calc makes the .xls test fixture
if [ "$(id -u)" = 0 ] && ! dpkg -s libreoffice-writer-nogui libreoffice-calc-nogui >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq libreoffice-writer-nogui libreoffice-calc-nogui >/dev/null) \
    || echo "warning: could not install LibreOffice; .doc/.wps files will be skipped" >&2
fi
# OCR (rapidocr-onnxruntime's OpenCV needs libGL and GLib at run time); pdftoppm makes the scanned
# test fixtures. Without them scanned pages are skipped with a reason and those tests skip.
if [ "$(id -u)" = 0 ] && ! { ldconfig -p | grep -q 'libGL.so.1 ' && command -v pdftoppm >/dev/null; }; then
  (apt-get update -qq && apt-get install -y -qq libgl1 libglib2.0-0 poppler-utils >/dev/null) \
    || echo "warning: could not install libgl1/poppler-utils; OCR of scanned pages may be unavailable" >&2
fi
