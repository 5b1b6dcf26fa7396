#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: the browser test's mouse journey, saving the main pages
# as it reaches them (a real headless Chromium; see tests/external/web_browser.rs).
#
#   scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ACCORD_SCREENSHOTS="$PWD/docs/screenshots"
exec scripts/test.sh --test external -- web_browser::journeys_with_the_mouse
