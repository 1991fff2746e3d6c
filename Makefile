# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-fast install clean bench browser ocr

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,ocr]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) ocr
	$(VENV)/bin/crosswalk demo

# Tesseract for pages without a text layer (scans), where this machine lets us install it (root
# with apt); elsewhere such pages are reported as unread and the OCR tests skip, saying why.
ocr:
	@if command -v tesseract >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null) \
	  || echo "could not install tesseract: scanned pages will be reported unread"; \
	else echo "tesseract not installed and no root apt: scanned pages will be reported unread"; fi

# Headless Chromium for the report's browser test, where this machine lets us install it
# (root with apt); elsewhere the browser test skips and says why.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	  || echo "could not install chromium: the browser test will skip"; \
	else echo "chromium not installed and no root apt: the browser test will skip"; fi

test: $(STAMP) browser ocr
	$(PY) -m pytest

# the fast tier (under a minute): everything but real CLI processes, servers and browsers
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

bench: $(STAMP)
	$(PY) bench/quality.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
