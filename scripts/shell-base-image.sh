#!/usr/bin/env bash
# shell-base-image.sh [ARCH]: build a static shell (gosh, mvdan.cc/sh, from
# the Go module proxy) for linux/ARCH (default amd64) and push it as /bin/sh
# in a base image to the ECR repository batchxray-base/shell of the AWS
# configuration in the environment (AWS_ENDPOINT_URL for `batchxray local`).
# Prints the image's reference, for `batchxray up --base-image`. Needs only
# Go: no Docker.
set -euo pipefail
arch=${1:-amd64}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# go install puts a cross-built binary in GOPATH/bin/linux_ARCH (and
# refuses GOBIN for one); the module cache stays the usual one.
GOMODCACHE=$(go env GOMODCACHE) GOPATH="$work/gopath" CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOFLAGS= \
  go install mvdan.cc/sh/v3/cmd/gosh@v3.14.1
sh="$work/gopath/bin/gosh"
[ -x "$sh" ] || sh="$work/gopath/bin/linux_$arch/gosh"
go run ./scripts/shellbase -shell "$sh" -arch "$arch"
