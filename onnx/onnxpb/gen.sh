#!/bin/sh
# Regenerates onnx_subset.pb.go from onnx_subset.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-go at the version
# of google.golang.org/protobuf pinned in go.mod:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
set -eu
cd "$(dirname "$0")"
PATH="$PATH:$(go env GOPATH)/bin"
protoc --go_out=. --go_opt=paths=source_relative onnx_subset.proto
