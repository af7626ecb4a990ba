# syntax=docker/dockerfile:1
# Stampede images: one build, three small final images (make images).
#
#   docker build --target master -t REGISTRY/stampede-master:TAG .
#   docker build --target worker -t REGISTRY/stampede-worker:TAG .
#   docker build --target target -t REGISTRY/stampede-target:TAG .
#
# Stages: "dashboard" bundles the web front end with node (dashboard/dist,
# embedded in the master); "build" compiles the three Go binaries static
# (CGO_ENABLED=0) into /out; each final stage is distroless/static running as
# the nonroot user (65532) with only its binary. k8s/ wires them by the
# entrypoint path and configures them through STAMPEDE_* variables.
# test/k8s/dockerfile_test.go runs this file's build command locally and checks
# the binaries are static.

ARG GO_VERSION=1.26
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS dashboard
WORKDIR /src/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY dashboard/ ./
RUN npm run build

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=dashboard /src/dashboard/dist ./dashboard/dist
ARG VERSION=dev
RUN go build -ldflags "-s -w -X github.com/stampede-load/stampede/pkg/version.Version=${VERSION}" -o /out/ ./master ./worker ./target

FROM gcr.io/distroless/static-debian12:nonroot AS master
COPY --from=build /out/master /usr/local/bin/stampede-master
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/stampede-master"]

FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build /out/worker /usr/local/bin/stampede-worker
USER 65532:65532
EXPOSE 8082
ENTRYPOINT ["/usr/local/bin/stampede-worker"]

FROM gcr.io/distroless/static-debian12:nonroot AS target
COPY --from=build /out/target /usr/local/bin/stampede-target
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/stampede-target"]
