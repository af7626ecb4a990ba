# mk/k8s.mk - container images and the Kubernetes manifest checks.
# Included by the main Makefile (include mk/*.mk). Targets:
#   make images [REGISTRY=...] [TAG=...]   build the three images from the Dockerfile
#   make images-push                       push them
#   make k8s-check                         manifests vs a real kube-apiserver + Go manifest tests
# See docs/kubernetes.md.

REGISTRY ?= ghcr.io/stampede-load
TAG ?= 0.1.0
# Any builder that understands Dockerfiles with --target (docker, podman).
DOCKER ?= docker
IMAGES := master worker target

KAPI_VERSION ?= 1.32.13
KAPI_DIR ?= $(HOME)/.cache/stampede/kapi/v$(KAPI_VERSION)
KAPI_BIN := $(KAPI_DIR)/kube-apiserver

.PHONY: images images-push k8s-deps k8s-kapi k8s-render k8s-check

# One build stage compiles all three binaries; each image is one final stage.
images:
	@for t in $(IMAGES); do \
		echo "$(DOCKER) build --target $$t --build-arg VERSION=$(TAG) -t $(REGISTRY)/stampede-$$t:$(TAG) ."; \
		$(DOCKER) build --target $$t --build-arg VERSION=$(TAG) -t $(REGISTRY)/stampede-$$t:$(TAG) . || exit 1; \
	done

images-push: images
	@for t in $(IMAGES); do \
		$(DOCKER) push $(REGISTRY)/stampede-$$t:$(TAG) || exit 1; \
	done

# etcd (Debian etcd-server) for the API server, ZooKeeper + Java for the
# local-process wiring test, node + npm for the Dockerfile's front-end stage;
# kubectl must already be on PATH (machine image).
k8s-deps:
	@missing=""; \
	command -v etcd >/dev/null || missing="$$missing etcd-server"; \
	[ -f /usr/share/java/zookeeper.jar ] || missing="$$missing zookeeper"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "k8s-deps: installing$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi
	@command -v kubectl >/dev/null || { echo "k8s-deps: kubectl is not on PATH"; exit 1; }

# Built once per version, then cached under $(KAPI_DIR).
k8s-kapi:
	scripts/kapi-build.sh $(KAPI_VERSION) $(KAPI_DIR)

k8s-render:
	kubectl kustomize k8s/ > /dev/null
	kubectl kustomize k8s/overlays/with-target > /dev/null

k8s-check: k8s-deps k8s-kapi
	KAPI_BIN=$(KAPI_BIN) scripts/kapi-check.sh .
	go test -count=1 -v ./test/k8s/...
