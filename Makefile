# cnn-course: `make lab` to study, `make test` to check everything. See README.md.
# The Python that builds .venv: PYTHON=... if given, else the first Python 3.11 that every user can run
# (autograder/cli/python_choice.py: not one under /root or a private home, since .venv's python links to it).
PYTHON ?=
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := cnn-course
LAB_ARGS ?= --ServerApp.ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=
# nbgrader runs helpers (alembic) by name: the environment's bin/ comes first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: instructor lab work reset check test test-fast lint release figures system-deps env proxy hub benchmark constraints clean

## The pinned environment in .venv (re-run when pyproject.toml or constraints.txt change).
## One line per step; pip stays quiet unless something goes wrong.
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
env: $(STAMP)
SERVER_CONFIG = autograder/jupyter/jupyter_server_config.d/cnn-course.json
$(STAMP): pyproject.toml constraints.txt $(SERVER_CONFIG)
	@test -x $(BIN)/python || { py="$(PYTHON)"; \
	  if [ -z "$$py" ]; then py=$$($$(command -v python3 || command -v python3.11) -m autograder.cli.python_choice) || exit 1; fi; \
	  echo "env: creating $(VENV) with $$py ($$($$py --version 2>&1))..." && $$py -m venv $(VENV); }
	@echo "env: installing PyTorch 2.13.0 (CPU build)..."
	@$(PIP) "torch==2.13.0"
	@echo "env: installing the course and its tools at the versions in constraints.txt..."
	@$(PIP) -e ".[test,hub]"
	@echo "env: registering the Jupyter kernel '$(KERNEL)'..."
	@$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 (cnn-course)" >/dev/null
	@echo "env: enabling the course's Jupyter server extension (autograder/hooks/formgrader.py)..."
	@mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d && cp $(SERVER_CONFIG) $(VENV)/etc/jupyter/jupyter_server_config.d/
	@touch $(STAMP)
	@echo "env: ready in $(VENV)"

## Debian packages: the real Fashion-MNIST and Chromium for the browser tests.
system-deps:
	@pkgs="dataset-fashion-mnist chromium bubblewrap"; \
	missing=""; for p in $$pkgs; do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "system-deps: $$pkgs already installed"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "system-deps: installing$$missing with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "system-deps: not installing$$missing (needs apt-get and root)."; \
	  echo "  Fashion-MNIST will be downloaded (with checksums) on first use instead;"; \
	  echo "  the browser tests are skipped without /usr/bin/chromium."; \
	  case "$$missing" in *bubblewrap*) \
	    echo "  Grading (nbgrader autograde, python -m autograder, make check) sandboxes each submission with"; \
	    echo "  bubblewrap; without it, grade with CNN_COURSE_NO_SANDBOX=1 (one ordinary kernel: trusted code only)."; \
	  esac; \
	fi

## The learner's own copy: work/<topic>/ from notebooks/<topic>/ for each topic not there yet (never
## overwrites a file; work/ is ignored by git, so notebooks/ and the release never carry a learner's edits).
work:
	@mkdir -p work; for d in notebooks/*/; do t=$$(basename "$$d"); \
	  if [ ! -e "work/$$t" ]; then cp -R "notebooks/$$t" "work/$$t" && echo "work: copied notebooks/$$t to work/$$t"; fi; done

## Start over on one topic: work/<topic>/ becomes a fresh copy of notebooks/<topic>/; the learner's copy is moved
## to work/backups/<topic>-<time>/ first (nothing is deleted).
reset:
	@test -n "$(TOPIC)" || { echo "usage: make reset TOPIC=01_convolution   (one of: $$(ls notebooks | tr '\n' ' '))"; exit 2; }
	@test -d "notebooks/$(TOPIC)" || { echo "make reset: there is no notebooks/$(TOPIC) (one of: $$(ls notebooks | tr '\n' ' '))"; exit 2; }
	@if [ -e "work/$(TOPIC)" ]; then backup="work/backups/$(TOPIC)-$$(date +%Y%m%d-%H%M%S)"; \
	  mkdir -p work/backups && mv "work/$(TOPIC)" "$$backup" && echo "reset: your copy is kept in $$backup"; fi
	@mkdir -p work && cp -R "notebooks/$(TOPIC)" "work/$(TOPIC)" && echo "reset: work/$(TOPIC) is a fresh copy of notebooks/$(TOPIC)"

## Start JupyterLab on the learner's copy (work/), with nbgrader's Validate button and none of the instructor's tools
## (deploy/learner: no Formgrader, course list or Assignments tab; an instructor runs `jupyter lab` in their course).
lab: system-deps $(STAMP) work
	JUPYTER_CONFIG_PATH=$(abspath deploy/learner) $(BIN)/jupyter lab --ServerApp.root_dir=work $(LAB_ARGS)

## The instructor's course folder, private: this folder 0700 (GROUP=1: 0750, for a group of instructors only), and
## source/, gradebook.db, autograded/, submitted/, feedback/, rejected/, grades.csv unreadable by others.
## nbgrader refuses to generate, grade, give feedback or export until it is (autograder/hooks/privacy.py).
GROUP ?=
instructor:
	@test -x $(BIN)/python || { echo "make instructor: run make env first"; exit 1; }
	$(BIN)/python -m autograder private $(if $(GROUP),--group,)

## Self-study: grade work/$(TOPIC)/ with the hidden tests (sandboxed, in a throwaway course folder).
TOPIC ?=
check: $(STAMP)
	@test -n "$(TOPIC)" || { echo "usage: make check TOPIC=01_convolution   (one of: $$(ls source | tr '\n' ' '))"; exit 2; }
	$(BIN)/python -m autograder check $(TOPIC)

## The hub's proxy, configurable-http-proxy, from npm (deploy/jupyterhub/package-lock.json).
HUB_DIR := deploy/jupyterhub
PROXY   := $(HUB_DIR)/node_modules/.bin/configurable-http-proxy
proxy:
	@if [ -x $(PROXY) ] && [ $(PROXY) -nt $(HUB_DIR)/package-lock.json ]; then :; \
	elif command -v npm >/dev/null 2>&1; then (cd $(HUB_DIR) && npm ci --no-audit --no-fund --loglevel=error) && touch $(PROXY); \
	else echo "proxy: npm is missing: no configurable-http-proxy, so no hub (tests/test_hub.py is skipped)"; fi

## JupyterHub for a class on this machine (as root, on 127.0.0.1): see README, "Teaching a class on JupyterHub".
HUB_PORT ?= 8000
hub: system-deps $(STAMP) proxy
	@test "$$(id -u)" = 0 || { echo "make hub: run as root (the hub logs in Unix users and starts their servers)"; exit 1; }
	@test -x $(PROXY) || { echo "make hub: configurable-http-proxy is missing: install npm (Node.js >= 20), then make hub"; exit 1; }
	@echo "JupyterHub for cnn-course on http://127.0.0.1:$(HUB_PORT)/  (Ctrl-C stops it and every user's server)"
	@echo "  log in with a Unix account of group $${CNN_HUB_STUDENTS:-cnn-students} or $${CNN_HUB_INSTRUCTORS:-cnn-instructors}; add them with"
	@echo "    printf 'PASSWORD\\n' | $(BIN)/python $(HUB_DIR)/manage.py add-student NAME     (or add-instructor NAME)"
	@echo "  instructors: $(BIN)/python $(HUB_DIR)/manage.py run NAME -- nbgrader release_assignment 01_convolution"
	@echo "  course update for students: $(BIN)/python $(HUB_DIR)/manage.py publish   (prints the nbgitpuller link)"
	cd $(HUB_DIR) && CNN_HUB_PORT=$(HUB_PORT) $(abspath $(BIN))/python -m jupyterhub -f jupyterhub_config.py

## The whole test suite, in the same environment (lint first).
test: lint system-deps $(STAMP) proxy
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## The unit tests only: no notebook, nbgrader, JupyterLab or browser run; needs only `make env`.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser" $(PYTEST_ARGS)

## ruff, configured in pyproject.toml (notebooks excluded): the linter, and the formatter's check
## (`.venv/bin/ruff format .` rewrites what it reports).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Regenerate notebooks/ (the student copies) from source/ with nbgrader.
release: $(STAMP)
	$(BIN)/python -m autograder release

## Re-render the static figures (source/<topic>/figures/*.png) the notebooks' markdown shows; then make release.
figures: $(STAMP)
	$(BIN)/python -m course_utils.figures

benchmark: $(STAMP)
	$(BIN)/python benchmarks/widgets.py --json
	$(BIN)/python benchmarks/lenet.py --json

## Rewrite constraints.txt from the current .venv (after changing a version on purpose).
constraints:
	@( echo "# Generated by 'pip freeze' from a working .venv; the exact versions 'make' installs."; \
	   echo "# Regenerate: make constraints.  torch is the CPU build (2.13.0+cpu satisfies ==2.13.0)."; \
	   $(BIN)/pip freeze --exclude-editable | grep -v -E "^(cnn-course|pip|setuptools)==" | sed 's/+cpu//' ) > constraints.txt

clean:
	rm -rf $(VENV) submitted autograded feedback source_with_tests gradebook.db test-artifacts
