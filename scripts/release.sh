#!/usr/bin/env bash
# Cross-builds batchxray for every released platform into dist/ (version
# stamped with the Makefile's LDFLAGS), then writes the checksums and the
# multi-architecture job image (an OCI layout) with scripts/release.
# Run it as `make release`; it needs only Go.
set -euo pipefail
: "${VERSION:?set VERSION (make release does)}" "${LDFLAGS:?set LDFLAGS (make release does)}"
GO=${GO:-go}
DIST=${DIST:-dist}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"}

rm -rf "$DIST"
mkdir -p "$DIST"
for target in $PLATFORMS; do
  os=${target%/*} arch=${target#*/} ext=
  [ "$os" = windows ] && ext=.exe
  out="$DIST/batchxray_${VERSION}_${os}_${arch}${ext}"
  echo "build $out" >&2
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$out" ./cmd/batchxray
done
"$GO" run ./scripts/release -version "$VERSION" -dist "$DIST"
