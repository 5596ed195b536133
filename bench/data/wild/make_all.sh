#!/bin/bash
# Rebuild the wild test set from scratch (about 75 s), from any directory:
#
#     WILD_OUT=/tmp/policyqa-wild PYTHON=.venv/bin/python bench/data/wild/make_all.sh
#
# Reads <repo>/../shared/data/office-regulations; writes $WILD_OUT/files (the 42 files),
# $WILD_OUT/tmp (intermediates), $WILD_OUT/expected.jsonl (ground truth) and
# $WILD_OUT/verify_report.txt. PYTHON needs python-docx, Pillow, numpy, pypdfium2, bs4 and lxml;
# soffice, chromium, pdftoppm and pdftotext must be on PATH.
set -e
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export WILD_OUT=$(realpath -m "${WILD_OUT:-/tmp/policyqa-wild}")
export PYTHON=${PYTHON:-python}
cd "$HERE"
mkdir -p "$WILD_OUT/files" "$WILD_OUT/tmp"
rm -f "$WILD_OUT/tmp/expected_parts.jsonl" "$WILD_OUT/expected.jsonl" "$WILD_OUT"/files/*
nice -n 10 "$PYTHON" build_docx.py
nice -n 10 "$PYTHON" build_web.py
./convert.sh
nice -n 10 "$PYTHON" scan.py
nice -n 10 "$PYTHON" verify.py | tee "$WILD_OUT/verify_report.txt"
