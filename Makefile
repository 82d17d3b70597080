# gnutls-lab: the two commands of the README, and the rest.
#   make lab     JupyterLab on workspace/, the participants' copies (127.0.0.1, PORT=8888), everything installed first
#   make test    the whole suite (creates .venv, installs test extras and system packages)
#   make bench   handshake and decoder benchmarks against C and Python's ssl module
#   make fuzz    long seeded fuzzing of the decoder and set_data (counts; crashes must be 0)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8888
WORKSPACE ?= workspace
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: lab test test-3.8 test-newest fuzz bench notebooks-sync clean

$(PY):
	scripts/system-packages.sh lab
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# System packages first: the install builds the C pipe (gnutls_lab/binding/_memio.c) when gcc is there.
$(VENV)/.lab-installed: $(PY) pyproject.toml setup.py gnutls_lab/binding/_memio.c
	scripts/system-packages.sh lab
	$(PY) -m pip install -q -e '.[lab]'
	touch $@

$(VENV)/.test-installed: $(PY) pyproject.toml setup.py gnutls_lab/binding/_memio.c
	scripts/system-packages.sh test
	$(PY) -m pip install -q -e '.[test,lab]'
	touch $@

# JupyterLab on the participants' folder: workspace/ (untracked) gets copies of the notebooks, made only
# when absent (scripts/workspace.py), so using the lab never changes a tracked file. The lab's terminals
# and kernels find gnutls-lab: $(VENV)/bin comes first on PATH, and terminals start as non-login shells
# (a login shell would read /etc/profile, which resets PATH).
lab: $(VENV)/.lab-installed
	scripts/system-packages.sh lab
	$(PY) scripts/workspace.py --workspace $(WORKSPACE)
	@echo "JupyterLab on http://127.0.0.1:$(PORT)/lab (the URL with its token follows)"
	PATH="$(abspath $(VENV))/bin:$$PATH" VIRTUAL_ENV="$(abspath $(VENV))" \
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	    --ServerApp.open_browser=$$( [ -n "$$DISPLAY" ] && echo True || echo False ) \
	    --ServerApp.terminado_settings="shell_command=$${SHELL:-/bin/sh}" \
	    --ServerApp.root_dir=$(WORKSPACE) $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS)

test: $(VENV)/.test-installed
	scripts/system-packages.sh test
	$(PY) -m pytest $(PYTEST_ARGS)

# The library tests (no notebooks, no browser, no real servers but gnutls-serv, openssl and the lab's: those
# root filesystems lack nginx, Apache, lighttpd, HAProxy, Caddy, Exim; docs/servers.md says why) in another
# Debian root filesystem, each with its own venv:
# GnuTLS 3.8.9 (Debian 13) and the newest GnuTLS Debian ships (sid, 3.8.13).
# $(call library-tests,GNUTLS-ENV NAME,VENV)
GNUTLS_ENV ?= ../shared/tools/gnutls-env
define library-tests
$(GNUTLS_ENV) $(1) -- sh -c 'set -e; { command -v openssl && command -v tshark && command -v wget2 && command -v gcc && command -v git; } >/dev/null || \
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl gnutls-bin tshark \
        gcc libc6-dev pkg-config wget wget2 libcurl4-gnutls-dev git >/dev/null; }; \
    [ -x $(2)/bin/python ] || python3 -m venv $(2); \
    $(2)/bin/pip install -q --disable-pip-version-check -e ".[libtest]" && \
    $(2)/bin/python -m pytest -m "not notebooks and not browser and not realservers" \
        --ignore=tests/test_notebooks.py --ignore=tests/test_browser.py $(PYTEST_ARGS)'
endef

test-3.8:
	$(call library-tests,3.8,.venv-gnutls38)

test-newest:
	$(call library-tests,newest,.venv-gnutls-newest)

# Long seeded fuzzing: blobs through decode and every view, resumptions with mutated blobs (forked).
FUZZ_DECODE ?= 100000
FUZZ_RESUME ?= 10000
FUZZ_SEED   ?= 1
fuzz: $(VENV)/.test-installed
	$(PY) tests/fuzz/blob_fuzz.py --decode $(FUZZ_DECODE) --set-data $(FUZZ_RESUME) --seed $(FUZZ_SEED)

bench: $(VENV)/.test-installed
	scripts/system-packages.sh bench
	$(PY) benchmarks/run.py

# Re-create each .ipynb from its py:percent twin (the twin is what reviews read).
notebooks-sync: $(VENV)/.test-installed
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf $(VENV) .venv-gnutls38 .venv-gnutls-newest build *.egg-info benchmarks/_build .pytest_cache
