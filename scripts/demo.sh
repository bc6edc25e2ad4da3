#!/usr/bin/env bash
# The whole path on the local stand-in. Filled in as the commands land.
set -euo pipefail
echo "make demo: the end-to-end path (up, submit --wait, trace, down) is not built yet; see the open issues" >&2
exit 1
