# Few-shot Studio: `make run` installs into .venv and opens the studio; `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo test bench clean bundle install-desktop

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fewshot-studio

demo: $(STAMP)
	$(VENV)/bin/fewshot-studio demo

# Two workers (pytest-xdist): the tests are mostly one process each waiting on one core; TEST_WORKERS=0 runs them
# in this process alone.
TEST_WORKERS ?= 2
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	$(PY) benchmarks/adapt_latency.py

# Refresh the interface's translations: new strings from fewshot_studio/gui into resources/i18n/*.ts (translate
# them there, by hand or with pyside6-linguist), then compile the .qm files the studio loads.
.PHONY: translations
translations: $(STAMP)
	$(VENV)/bin/pyside6-lupdate -no-obsolete -locations none fewshot_studio/gui/*.py \
	  -ts resources/i18n/fewshot_studio_zh_CN.ts
	$(VENV)/bin/pyside6-lrelease resources/i18n/fewshot_studio_zh_CN.ts -qm resources/i18n/fewshot_studio_zh_CN.qm

# The one-folder application in dist/fewshot-studio, then its smoke tests (minutes, GBs: not in CI).
bundle: $(STAMP)
	packaging/build_bundle.sh --venv $(VENV)

# The desktop entry, icons, AppStream data and .fsproj type in ~/.local/share, for `fewshot-studio` on PATH.
install-desktop:
	packaging/linux/install-desktop.sh

clean:
	rm -rf $(VENV) build dist *.egg-info
