# gnutls-lab: the two commands of the README, and the rest.
#   make lab     JupyterLab on workspace/, the participants' copies (127.0.0.1, PORT=8888), everything installed first
#   make test    the whole suite (creates .venv, installs test extras and system packages)
#   make bench   handshake and decoder benchmarks against C and Python's ssl module
#   make fuzz    long seeded fuzzing of the decoder and set_data (counts; crashes, leaks, overwrites must be 0)
#   make hub     a JupyterHub for a room on this machine (root; deploy/hub/, docs/workshop.md)
#   make test-hub   simulated participants, isolation, culling, two participants in a browser (root)
#   make bench-hub  the same load at HUB_N participants (default 30), figures as a markdown table
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8888
WORKSPACE ?= workspace
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: lab test test-3.8 test-newest fuzz bench notebooks-sync clean hub hub-install test-hub bench-hub

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

# The library tests (no browser, no real servers but gnutls-serv, openssl and the lab's: those root
# filesystems lack nginx, Apache, lighttpd, HAProxy, Caddy, Exim; docs/servers.md says why) in another
# Debian root filesystem, each with its own venv:
# GnuTLS 3.8.9 (Debian 13) and the newest GnuTLS Debian ships (sid, 3.8.13). Then every notebook, run headless
# there, so each live check holds on that version too (08 audits the servers those filesystems have:
# gnutls-serv, openssl s_server, the lab's). VERSION_NOTEBOOKS= leaves them out (e.g. with PYTEST_ARGS naming a
# few tests); VERSION_NOTEBOOKS="runs_without_error and 06" runs one.
# $(call library-tests,GNUTLS-ENV NAME,VENV)
VERSION_NOTEBOOKS ?= runs_without_error
GNUTLS_ENV ?= ../shared/tools/gnutls-env
define library-tests
@[ -x "$(GNUTLS_ENV)" ] || { echo "make $@: needs gnutls-env, the maintainers' tool that runs a command in a Debian" \
    "root filesystem with another GnuTLS; set GNUTLS_ENV=/path/to/gnutls-env (README: Supported GnuTLS versions)" >&2; exit 2; }
$(GNUTLS_ENV) $(1) -- sh -c 'set -e; { command -v openssl && command -v tshark && command -v wget2 && command -v gcc && command -v git; } >/dev/null || \
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl gnutls-bin tshark \
        gcc libc6-dev pkg-config wget wget2 libcurl4-gnutls-dev git >/dev/null; }; \
    [ -x $(2)/bin/python ] || python3 -m venv $(2); \
    $(2)/bin/pip install -q --disable-pip-version-check -e ".[libtest,nbrun]" && \
    $(2)/bin/python -m pytest -m "not notebooks and not browser and not realservers" \
        --ignore=tests/test_notebooks.py --ignore=tests/test_browser.py $(PYTEST_ARGS) && \
    { [ -z "$(VERSION_NOTEBOOKS)" ] || \
      $(2)/bin/python -m pytest -q -p no:cacheprovider tests/test_notebooks.py -k "$(VERSION_NOTEBOOKS)"; }'
endef

test-3.8:
	$(call library-tests,3.8,.venv-gnutls38)

test-newest:
	$(call library-tests,newest,.venv-gnutls-newest)

# Long seeded fuzzing: blobs through decode and every view, resumptions with mutated blobs (forked) against
# labs of every credential kind (certificate, anon, PSK) and protocol (TLS 1.0-1.3).
FUZZ_DECODE ?= 100000
FUZZ_RESUME ?= 10000
FUZZ_SEED   ?= 1
fuzz: $(VENV)/.test-installed
	$(PY) tests/fuzz/blob_fuzz.py --decode $(FUZZ_DECODE) --set-data $(FUZZ_RESUME) --seed $(FUZZ_SEED)

bench: $(VENV)/.test-installed
	scripts/system-packages.sh bench
	$(PY) benchmarks/run.py

# The workshop hub (deploy/hub/): JupyterHub, configurable-http-proxy, nbgitpuller, the idle culler and
# gnutls-lab installed once for all in HUB_PREFIX (Debian's python3, readable by every participant), then
# JupyterHub in the foreground on HUB_BIND:HUB_PORT (127.0.0.1 unless HUB_BIND=0.0.0.0: see docs/workshop.md).
HUB_PREFIX ?= /opt/gnutls-lab-hub
HUB_BIND   ?= 127.0.0.1
HUB_PORT   ?= 8000
HUB_IDLE   ?= 3600
HUB_PYTHON ?= /usr/bin/python3
HUB_N      ?= 30
hub-install:
	@[ "$$(id -u)" = 0 ] || { echo "make hub: run as root (each participant gets a system account)" >&2; exit 2; }
	PYTHON=$(HUB_PYTHON) scripts/system-packages.sh hub
	HUB_PYTHON=$(HUB_PYTHON) deploy/hub/install.sh $(HUB_PREFIX)

hub: hub-install
	GNUTLS_LAB_HUB_PREFIX=$(HUB_PREFIX) GNUTLS_LAB_HUB_BIND=$(HUB_BIND) GNUTLS_LAB_HUB_PORT=$(HUB_PORT) \
	GNUTLS_LAB_HUB_IDLE=$(HUB_IDLE) $(HUB_PREFIX)/venv/bin/jupyterhub -f deploy/hub/jupyterhub_config.py

# The hub's tests run a throwaway hub of their own (its own prefix, ports and glhubt- accounts, all removed).
HUB_TEST_PREFIX ?= /var/tmp/gnutls-lab-hub-test
# repo2docker (its --no-build Dockerfile) and PyYAML check deploy/z2jh/ offline (deploy/tests/test_z2jh.py).
$(VENV)/.hub-test-installed: $(VENV)/.test-installed
	$(PY) -m pip install -q jupyter-repo2docker pyyaml
	touch $@

test-hub: $(VENV)/.hub-test-installed
	scripts/system-packages.sh test
	$(MAKE) --no-print-directory hub-install HUB_PREFIX=$(HUB_TEST_PREFIX)
	HUB_TEST_PREFIX=$(HUB_TEST_PREFIX) $(PY) -m pytest deploy/tests -p no:cacheprovider $(PYTEST_ARGS)

bench-hub: $(VENV)/.test-installed
	$(MAKE) --no-print-directory hub-install HUB_PREFIX=$(HUB_TEST_PREFIX)
	$(PY) benchmarks/bench_hub.py --prefix $(HUB_TEST_PREFIX) -n $(HUB_N)

# Re-create each .ipynb from its py:percent twin (the twin is what reviews read).
notebooks-sync: $(VENV)/.test-installed
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf $(VENV) .venv-gnutls38 .venv-gnutls-newest build *.egg-info benchmarks/_build .pytest_cache
