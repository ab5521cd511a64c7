# Stratus build. Every target works on a fresh machine: `install` brings in the
# Debian packages, the npm-shipped buf binary and a .venv with pinned packages.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
PIP       := $(VENV)/bin/pip
BUF_VERSION := 1.75.0
BUF       := .tools/node_modules/.bin/buf
# qemu-system-common: qemu-storage-daemon (NBD volume exports); dnsmasq: the DHCP agent;
# chromium and its driver: the dashboard's browser tests.
DEB_PACKAGES := libvirt-dev pkg-config qemu-utils gcc python3-dev qemu-system-common \
  dnsmasq-base dnsmasq-utils iproute2 chromium chromium-driver
STAMP     := $(VENV)/.installed
PYTEST_ARGS ?=
# make run-all HYPERVISOR=qemu: real guests (QEMU, libvirtd in a network namespace).
HYPERVISOR ?= test
DATA_DIR  ?= $(or $(STRATUS_DATA_DIR),var)
# make run-all STRATUS_PORT_OFFSET=1000: every port moves up by 1000.
PORT_OFFSET ?= $(or $(STRATUS_PORT_OFFSET),0)
# The size of each compute host (empty: the test host's 16 vCPUs and 8192 MiB, or
# what libvirt reports; the disk is the data directory's file system).
COMPUTE_VCPUS ?=
COMPUTE_RAM_MIB ?=
COMPUTE_DISK_GIB ?=
# make run-all MACHINES=3: a rack of network namespaces (a controller and 3 compute machines),
# mutual TLS, PostgreSQL, 2 replicas of api/scheduler/conductor (REPLICAS=1 for one).
# make run-all TLS=1: TLS on one machine. DATABASE_URL: a PostgreSQL of yours (MACHINES).
MACHINES ?= 0
TLS ?=
REPLICAS ?=

.PHONY: help install proto new-component lint test test-unit test-e2e run-all example guest-image bench bench-quick clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install: $(STAMP) $(BUF)  ## Create .venv with pinned packages (and Debian packages when missing)

$(STAMP): pyproject.toml
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

$(BUF):
	@command -v npm >/dev/null || { echo "npm is needed for buf (apt-get install npm)"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@$(BUF_VERSION) >/dev/null

# The example component's generated code (package example.keyvalue.v1), beside it.
EXAMPLE_GEN := examples/keyvalue/generated

proto: $(STAMP)  ## Regenerate generated/ from protos/ (and the example's)
	rm -rf generated/stratus
	mkdir -p generated
	$(PY) -m grpc_tools.protoc -I protos --python_out=generated --grpc_python_out=generated \
	  --pyi_out=generated $$(find protos -name '*.proto' | sort)
	find generated/stratus -type d -exec touch {}/__init__.py \;
	rm -rf $(EXAMPLE_GEN)/example
	$(PY) -m grpc_tools.protoc -I protos -I examples/keyvalue/protos --python_out=$(EXAMPLE_GEN) \
	  --grpc_python_out=$(EXAMPLE_GEN) --pyi_out=$(EXAMPLE_GEN) $$(find examples/keyvalue/protos -name '*.proto' | sort)
	find $(EXAMPLE_GEN)/example -type d -exec touch {}/__init__.py \;

# make new-component NAME=dns: the proto is generated alone (generated/ is left as it is).
new-component: $(STAMP)  ## Write a new component (proto, code, migration, contract test): NAME=dns
	@test -n "$(NAME)" || { echo "usage: make new-component NAME=dns"; exit 2; }
	$(PY) -m components.scaffold $(NAME)

lint: install  ## buf lint + breaking, generated/ freshness, ruff
	$(BUF) lint
	@if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:protos 2>/dev/null; then \
	  echo "buf breaking against HEAD~1"; $(BUF) breaking --against '.git#ref=HEAD~1'; \
	else echo "buf breaking: no protos on the previous commit yet"; fi
	@$(MAKE) --no-print-directory proto >/dev/null
	@git diff --exit-code --stat -- generated/ $(EXAMPLE_GEN)/ || { echo "generated/ is stale: run make proto and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- generated/ $(EXAMPLE_GEN)/)" || { git status --short -- generated/ $(EXAMPLE_GEN)/; echo "generated/ has files not committed: run make proto and commit"; exit 1; }
	$(VENV)/bin/ruff check components examples tests
	$(VENV)/bin/ruff format --check components examples tests

test: install  ## Run the whole test suite
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: install  ## Unit and contract tests only (fast)
	$(VENV)/bin/pytest tests/unit tests/contract $(PYTEST_ARGS)

# make run-all COMPUTE_VCPUS=16 COMPUTE_RAM_MIB=65536 COMPUTE_DISK_GIB=200 sizes each test host.
COMPUTE_SIZE = $(if $(COMPUTE_VCPUS), --compute-vcpus $(COMPUTE_VCPUS))$(if \
  $(COMPUTE_RAM_MIB), --compute-ram-mib $(COMPUTE_RAM_MIB))$(if \
  $(COMPUTE_DISK_GIB), --compute-disk-gib $(COMPUTE_DISK_GIB))

RUN_MODE = --machines $(MACHINES)$(if $(filter-out 0,$(TLS)), --tls)$(if $(REPLICAS), --replicas $(REPLICAS))

run-all: install  ## Start every component (MACHINES=3: across a rack), bootstrap a demo cloud, print commands
	$(PY) -m components.supervisor --compute-hosts $(or $(COMPUTE_HOSTS),1) $(RUN_MODE) \
	  --hypervisor $(HYPERVISOR) --data-dir $(DATA_DIR) --port-offset $(PORT_OFFSET)$(COMPUTE_SIZE)

# make example: the example component of docs/framework.md, against run-all's identity (start
# make run-all first, with the same DATA_DIR and PORT_OFFSET). It borrows the network service's
# user to validate tokens (identity's bootstrap has none for it): STRATUS_KEYVALUE_SERVICE_USER.
example: install  ## Start the example key-value store (docs/framework.md) against run-all's identity
	STRATUS_DATA_DIR=$(DATA_DIR) STRATUS_IDENTITY_ADDRESS=127.0.0.1:$$((5000 + $(PORT_OFFSET))) \
	  STRATUS_KEYVALUE_SERVICE_USER=$${STRATUS_KEYVALUE_SERVICE_USER:-network} \
	  $(PY) -m examples.keyvalue --port $$((8790 + $(PORT_OFFSET)))

guest-image: install  ## Build the demo guest from Debian packages and upload it to the running cloud
	$(PY) -m components.supervisor.guest_upload --data-dir $(DATA_DIR)

bench: install  ## Run every benchmark (prints figures, writes var/bench/latest.json)
	$(PIP) install -q --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m tests.benchmarks

bench-quick: install  ## The benchmarks with small sizes (under 2 minutes)
	$(PIP) install -q --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m tests.benchmarks --quick

clean:  ## Remove the venv, tools and runtime data
	rm -rf $(VENV) .tools var
