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
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make demo: set up, generate the bundled shop scenario and scan it, writing real reports.
demo: install
	@mkdir -p $(OUT)
	$(BIN)/privdiag generate --out fixtures/demo --seed 7 --users 600 --quiet-if-exists
	$(BIN)/privdiag scan fixtures/demo/events.ndjson.gz --consent fixtures/demo/consent.csv \
	    --config fixtures/demo/privdiag.toml \
	    --json $(OUT)/demo-findings.json --html $(OUT)/demo-report.html \
	    --markdown $(OUT)/demo-summary.md --fail-on critical
	@echo "Reports written: $(OUT)/demo-report.html $(OUT)/demo-findings.json $(OUT)/demo-summary.md"

## make test: set up with the test extra and run the test suite.
test: install-test
	$(BIN)/python -m pytest -q

bench: install-test
	$(BIN)/python -m privdiag.bench

lint:
	$(BIN)/ruff format --check privdiag tests
	$(BIN)/ruff check privdiag tests

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info
