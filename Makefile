# Development tasks. The virtual environment is .venv, made from uv.lock.

PYTHON := .venv/bin/python
STACK := $(PYTHON) deploy/local/stack.py

.PHONY: venv stack-up stack-down stack-status

venv: .venv/.synced

# The stamp is newer than uv.lock and pyproject.toml while the venv matches them.
.venv/.synced: uv.lock pyproject.toml
	@if [ ! -x .venv/bin/uv ]; then \
		echo "Bootstrapping uv into .venv"; \
		python3 -m venv .venv && .venv/bin/pip install --quiet uv==0.13.8; \
	fi
	.venv/bin/uv sync --frozen
	@touch $@

# The CJK font that ruling documents embed, from Debian; skipped when present.
DOCUMENT_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

.PHONY: fonts document-key personal-data-key

fonts:
	@if [ ! -f $(DOCUMENT_FONT) ]; then \
		echo "Installing fonts-wqy-zenhei"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q fonts-wqy-zenhei; \
	fi

# The platform's document-signing key pair, made once and never committed.
document-key: venv
	$(PYTHON) -m documents.keys create

# The key ring that encrypts phone, ID and account numbers at rest, made once and
# never committed. `python -m common.sealing rotate` adds a new active key.
personal-data-key: venv
	$(PYTHON) -m common.sealing create

stack-up: venv fonts document-key personal-data-key
	$(STACK) up

stack-down:
	@if [ -x $(PYTHON) ]; then $(STACK) down; else echo "No .venv, so no stack to stop"; fi

stack-status:
	$(STACK) status

# The client settings that match the stack's ports, for every command below.
WITH_ENV = eval "$$($(STACK) env)" &&

.PHONY: migrate services-up services-down demo lint unit test bench bench-intake soak browser

# Debian's Chromium and CJK fonts for the browser tests; skipped when present.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "chromium and CJK fonts: present"; \
	else \
		apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
	fi

migrate: stack-up
	$(WITH_ENV) $(PYTHON) -m common.migrate

services-up: migrate
	$(WITH_ENV) $(PYTHON) deploy/local/app_processes.py up

services-down:
	@if [ -x $(PYTHON) ]; then $(PYTHON) deploy/local/app_processes.py down; fi

demo: services-up
	$(WITH_ENV) $(PYTHON) -m demo

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

unit: venv fonts personal-data-key
	.venv/bin/pytest tests/unit tests/workflows

test: lint migrate browser
	$(WITH_ENV) .venv/bin/pytest

# Engine limits and case rates, measured in one run; BENCH_ARGS="--smoke" is short.
bench: migrate
	$(WITH_ENV) $(PYTHON) -m bench $(BENCH_ARGS)

# A steady case rate for ten minutes with every process's memory sampled; exits 1
# on errors or growing memory. SOAK_ARGS="--minutes 1" is short.
soak: migrate
	$(WITH_ENV) $(PYTHON) -m bench.soak $(SOAK_ARGS)

# Intake's peak memory for 100 MiB and 1 GiB uploads and the presigned path's
# throughput against a raw PUT; BENCH_INTAKE_ARGS="--sizes 20" is short.
bench-intake: migrate
	$(WITH_ENV) $(PYTHON) -m bench.intake_uploads $(BENCH_INTAKE_ARGS)

.PHONY: chaos

# Every process and engine killed with SIGKILL while cases run, then the table of
# finished, stuck, doubled, lost and changed; CHAOS_ARGS="--cases 5" is short.
chaos: migrate
	$(WITH_ENV) $(PYTHON) -m chaos $(CHAOS_ARGS)
