PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: demo test install install-test bench lint clean fixtures

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is needed: set PY=/path/to/python3.11"; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make demo: set up, generate the bundled shop scenario, scan it and check the fixture
## model, then merge both into one HTML report (exit 1 from scan = findings, expected here).
## A complete scenario is kept (--if-missing); a half-written or older one is rewritten
## (--force). The scenario holds a copy of the fixture model, named in its config.
DEMO := fixtures/demo
# A BIN given on the command line (make demo BIN=/opt/venv/bin) names a venv set up already:
# make uses it as it is and installs nothing into it (its own stamps are under .venv/).
ifeq ($(origin BIN),command line)
SETUP :=
SETUP_TEST :=
else
SETUP := install
SETUP_TEST := install-test
endif
demo: $(SETUP)
	@mkdir -p $(OUT)
	$(BIN)/privdiag generate --out $(DEMO) --seed 7 --users 600 --if-missing --force
	$(BIN)/privdiag scan $(DEMO)/web.ndjson.gz $(DEMO)/app.csv --config $(DEMO)/privdiag.toml \
	    --json $(OUT)/scan.json --html $(OUT)/scan.html --fail-on critical
	$(BIN)/privdiag model-check $(DEMO)/models/propensity_imputed.onnx \
	    --blind-set $(DEMO)/holdout.parquet --scan-result $(OUT)/scan.json \
	    --config $(DEMO)/privdiag.toml --json $(OUT)/model.json --fail-on critical
	$(BIN)/privdiag report $(OUT)/scan.json $(OUT)/model.json --html $(OUT)/demo-report.html \
	    --markdown $(OUT)/demo-summary.md --fail-on critical --quiet
	@echo "Reports written: $(OUT)/demo-report.html $(OUT)/demo-summary.md $(OUT)/scan.json $(OUT)/model.json"

## make test: set up with the test extra and run the test suite.
test: $(SETUP_TEST)
	$(BIN)/python -m pytest -q

## make bench: scan speed and memory on 1M and 10M events (BENCH_LARGE=1 adds 100M) against
## a bare DuckDB floor, and drift against scipy and Evidently; writes out/bench.md.
bench: install-test
	$(BIN)/python -m pip install --quiet -e '.[bench]' || echo "Evidently is not installable here: drift is compared with scipy only"
	$(BIN)/python -m privdiag.bench

lint:
	$(BIN)/ruff format --check privdiag tests
	$(BIN)/ruff check privdiag tests

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info

## make fuzz: a long fuzz run of ingestion (FUZZ_SECONDS, default 300) and the
## order/layout properties with many examples.
FUZZ_SECONDS ?= 300
.PHONY: fuzz
fuzz: install-test
	PRIVDIAG_FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m pytest -q tests/test_fuzz.py
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q tests/test_properties.py
