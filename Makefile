# Both targets build .venv from the pinned lock file on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# mypy (configured in pyproject.toml: files = src) type-checks the whole package in make test and make test-fast.
MYPY := $(BIN)/mypy

.PHONY: demo test test-fast bench clean validation-doc

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rackwright evaluate examples/hgx-h100-air.yaml examples/gb200-nvl72.yaml examples/gb300-nvl72.yaml examples/vera-rubin-nvl144.yaml examples/kyber-nvl576.yaml examples/ethernet-800vdc.yaml examples/ethernet-800vdc-e2.yaml
	$(BIN)/rackwright check examples/hgx-h100-air.yaml examples/gb200-nvl72.yaml examples/gb300-nvl72.yaml examples/vera-rubin-nvl144.yaml examples/kyber-nvl576.yaml examples/ethernet-800vdc.yaml examples/ethernet-800vdc-e2.yaml
	$(BIN)/rackwright compare examples/gb200-nvl72.yaml examples/gb300-nvl72.yaml
	$(BIN)/rackwright elevation examples/gb300-nvl72.yaml -o out/gb300-nvl72
	$(BIN)/rackwright bom examples/gb300-nvl72.yaml --racks 8
	$(BIN)/rackwright sourcing whatif examples/gb200-nvl72.yaml examples/sourcing-us-power-cabling.yaml --racks 8
	$(BIN)/rackwright factory simulate examples/line-us.yaml --design examples/gb200-nvl72.yaml --weeks 4 --replications 2 --seed 1 --warmup 2
	$(BIN)/rackwright perf search --model llama3-405b --system dgx-h100-ndr --accelerators 16384 --global-batch 2048 --top 5
	$(BIN)/rackwright perf infer --model llama3-70b --system examples/gb300-nvl72.yaml --batch 64 --input-tokens 2048 --output-tokens 512
	$(BIN)/rackwright site plan examples/site-100mw.yaml -o out/site-100mw
	$(BIN)/rackwright site cables out/site-100mw --netbox
	$(BIN)/rackwright site export-netbox out/site-100mw -o out/site-100mw/netbox
	$(BIN)/rackwright explore examples/space-gb300.yaml -o out/explore-gb300
	$(BIN)/rackwright explore examples/space-gb300-small.yaml -o out/explore-small --export-pareto out/explore-small/pareto
	$(BIN)/rackwright roadmap plan examples/roadmap-10gw.yaml -o out/roadmap
	$(BIN)/rackwright roadmap risk examples/roadmap-10gw.yaml --samples 200 --seed 1 -o out/roadmap-risk
	$(BIN)/rackwright programme plan examples/programme-10gw.yaml -o out/programme --samples 200 --seed 1

test: $(STAMP)
	sh scripts/test-deps.sh
	$(BIN)/ruff check src
	$(BIN)/ruff format --check src
	$(MYPY)
	$(BIN)/python -m pytest

# The loop while working: no docs examples, browsers, PostgreSQL or NetBox (a few minutes on 2 cores).
test-fast: $(STAMP)
	$(BIN)/ruff check src
	$(MYPY)
	$(BIN)/python -m pytest -m "not slow and not postgres and not browser and not netbox"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_rack_eval.py
	$(BIN)/python benchmarks/bench_perf_search.py
	$(BIN)/python benchmarks/bench_factory.py
	$(BIN)/python benchmarks/bench_site.py
	$(BIN)/python benchmarks/bench_explore.py
	$(BIN)/python benchmarks/bench_roadmap.py
	$(BIN)/python benchmarks/bench_programme.py
	$(BIN)/python benchmarks/bench_server.py
	$(BIN)/python benchmarks/bench_netbox.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis

validation-doc: $(STAMP)
	$(BIN)/python -m rackwright.validation

# The documentation site (docs/*.md and the API reference from the docstrings, mkdocs.yml) into build/docs/,
# offline and strict: a warning (a broken link, a docstring mkdocstrings cannot read) fails the build.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/mkdocs build --strict
