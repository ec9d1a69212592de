# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
LS_VENV := .venv-labelstudio
PIP_FLAGS := --disable-pip-version-check -q
# AL_EMBEDDINGS=0 installs without sentence embeddings (TF-IDF models only, no PyTorch).
AL_EMBEDDINGS ?= 1
export AL_EMBEDDINGS
EXTRA_REQS := $(if $(filter 0,$(AL_EMBEDDINGS)),,-r requirements-embeddings.txt)
# PyTorch's CPU-only build (~200 MB) from PyTorch's own index, first: PyPI's Linux wheel of the same version
# pulls ~3 GB of CUDA libraries. One quick lookup (--no-deps --retries 0): where that index cannot be reached,
# pip takes the pinned torch from the usual indexes, as the next line would have.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIN := $(shell grep -E '^torch==' requirements-embeddings.txt)

.PHONY: run test test-scale install labelstudio browser postgres format clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-embeddings.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...).")'
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the app into $(VENV) ..."
	$(if $(EXTRA_REQS),$(VENV)/bin/pip install $(PIP_FLAGS) --no-deps --retries 0 --extra-index-url $(TORCH_INDEX) "$(TORCH_PIN)")
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements.txt -r requirements-dev.txt $(EXTRA_REQS)
	@touch $@

$(LS_VENV)/.installed: requirements-labelstudio.txt
	@test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	@echo "Installing the Label Studio server into $(LS_VENV) (a few minutes, once) ..."
	$(LS_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-labelstudio.txt
	@touch $@

install: $(VENV)/.installed

labelstudio: $(LS_VENV)/.installed

# The dashboard on http://127.0.0.1:8501, with a local Label Studio on :8080 unless LABEL_STUDIO_URL is set.
run: install
	@if [ -z "$$LABEL_STUDIO_URL" ]; then $(MAKE) --no-print-directory labelstudio; fi
	$(VENV)/bin/python -m al_core.launch

# Debian's chromium for the real-browser test (Playwright drives it; no browser download).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "Installing Debian's chromium ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser test needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi; fi

# Debian's PostgreSQL server for the history's tests on PostgreSQL (tests/postgres.py starts a throwaway cluster).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then echo "Installing Debian's postgresql ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "The history tests need Debian's PostgreSQL server: sudo apt-get install postgresql"; exit 1; fi; fi

# Two pytest workers (pytest-xdist), each with its own Label Studio: one server answers one request at a time, so
# one worker leaves a core idle while it waits. A file's tests stay on one worker (its module fixtures run once).
TEST_JOBS ?= 2
test: install labelstudio browser postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/python -m pytest -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# The long real-server runs (marker `scale`) that `make test` leaves out to stay within 20 minutes.
test-scale: install labelstudio postgres
	$(VENV)/bin/python -m pytest -m scale $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(LS_VENV)
