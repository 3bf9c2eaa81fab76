# normreg — `make run` starts the whole system on embedded defaults; `make test` runs every test.
SHELL := /bin/bash
PY_VERSION ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GEN := build/gen
PROTOS := $(wildcard protos/normreg/v1/*.proto protos/normreg/events/v1/*.proto)
# google/api and google/type protos come from the googleapis-common-protos wheel (its stubs are the runtime's).
GOOGLEAPIS = $(shell $(PY) -c 'import google.api, pathlib; print(pathlib.Path(list(google.api.__path__)[0]).parent.parent)')
STAMP_VENV := $(VENV)/.installed
STAMP_GEN := $(GEN)/.stamp
PYTEST_ARGS ?=

.PHONY: all setup gen lint fmt typecheck test test-fast run run-federation run-tls run-real infra-up infra-down corpus bench bench-scale faults clean deploy-check browser-tools

all: setup

setup: $(STAMP_VENV) $(STAMP_GEN)

$(STAMP_GEN): $(PROTOS) $(STAMP_VENV)
	@mkdir -p $(GEN)
	@test -x $(PY) || $(PY_VERSION) -m venv $(VENV)
	@$(PY) -c "import grpc_tools" 2>/dev/null || $(PY) -m pip install -q "grpcio-tools==1.85.1" "mypy-protobuf>=3.6"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m grpc_tools.protoc -Iprotos -I$(GOOGLEAPIS) --python_out=$(GEN) --grpc_python_out=$(GEN) \
		--mypy_out=$(GEN) --mypy_grpc_out=$(GEN) $(PROTOS)
	@touch $@

$(STAMP_VENV): pyproject.toml
	@test -x $(PY) || $(PY_VERSION) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@mkdir -p $(GEN)
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -c 'import site, pathlib; roots = ["services/common", "services/registry", "services/review", "services/search", "services/filing", "services/portal", "cli", "build/gen"]; pathlib.Path(site.getsitepackages()[0], "normreg-src.pth").write_text("".join(str(pathlib.Path(r).resolve()) + "\n" for r in roots))'
	@touch $@

gen: $(STAMP_GEN)

node_modules/.bin/buf:
	npm install --no-save --no-audit --no-fund --silent @bufbuild/buf@1

lint: setup node_modules/.bin/buf
	bash scripts/buf-check.sh
	node_modules/.bin/buf format -d --exit-code
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The portal's browser tests: Debian's Chromium and its driver, a CJK font, axe-core from npm.
browser-tools:
	bash deploy/local/debian-packages.sh chromium chromium-driver fonts-noto-cjk
	bash deploy/local/node-tools.sh axe

# Unit, contract and end-to-end tests on the embedded backends only.
test-fast: setup browser-tools
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# Everything: lint, then the whole suite with a real Kafka and Elasticsearch started on loopback.
test: setup browser-tools
	$(MAKE) --no-print-directory lint
	bash deploy/local/with-infra.sh $(VENV)/bin/pytest -q $(PYTEST_ARGS)

run: setup
	$(PY) -m normreg_cli.run_all

# A province and two of its cities, each its own deployment, on one shared embedded event log.
run-federation: setup
	$(PY) -m normreg_cli.run_federation

# The same over TLS with client certificates: a throw-away CA and certificates under var/tls.
run-tls: setup
	$(PY) -m normreg_cli.run_all --tls

run-real: setup
	bash deploy/local/infra-up.sh
	set -a; source var/infra/infra.env; set +a; $(PY) -m normreg_cli.run_all

infra-up:
	bash deploy/local/infra-up.sh

infra-down:
	bash deploy/local/infra-down.sh

corpus: setup
	bash scripts/fetch-corpus.sh

bench: setup browser-tools corpus
	bash deploy/local/node-tools.sh lighthouse
	$(PY) -m bench

# A generated corpus of SIZE documents (default a million), by hand: imported end to end through the
# registry, the event log and the index, beside the backend's own bulk load (of the first 100k past
# that size); then what the import built is searched (p50/p99 at 1 and 32 clients beside the backend
# alone) through 1..N search processes. KEEP=dir keeps the generated corpus there for the next run.
# `python -m bench --only search_scale --shards N` builds an index through the bulk path instead.
#   make bench-scale SIZE=100000 BACKENDS=embedded
SIZE ?= 1000000
BACKENDS ?= embedded,real
KEEP ?=
# Documents the floor loads (default 100,000); FLOOR=0: all of them, the same documents as the import.
FLOOR ?=
# The local Elasticsearch node these start (when none runs) gets a heap for an index of millions.
bench-scale: export NORMREG_ES_HEAP ?= 2g
bench-scale: setup corpus
	$(PY) -m bench --only scale --search-at-size --size $(SIZE) --runs 1 --backends $(BACKENDS) \
		$(if $(KEEP),--keep $(KEEP)) $(if $(FLOOR),--floor-documents $(FLOOR))

faults: setup
	bash deploy/local/with-infra.sh $(VENV)/bin/pytest -q tests/faults

# Checks deploy/ without Docker or a cluster: image-recipe replay, compose config, k8s schemas, hadolint.
deploy-check: setup
	bash deploy/check.sh

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
