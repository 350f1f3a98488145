# One door for every chore (STYLE.md §10). The README and .ci/run call these targets.
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: install demo test pytest lint format types imports bench docs clean

install:  ## install uv (pinned) and every locked dependency into .venv
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen

demo: install  ## the whole loop on a small synthetic city, then the API server
	$(UV) run steward demo

test: install lint types imports pytest  ## everything CI checks

pytest:
	$(UV) run pytest

lint:
	$(UV) run ruff check src tests benchmarks
	$(UV) run ruff format --check src tests benchmarks

format:
	$(UV) run ruff check --fix src tests benchmarks
	$(UV) run ruff format src tests benchmarks

types:
	$(UV) run mypy src

imports:
	$(UV) run lint-imports

bench: install  ## benchmarks print ratios against a baseline measured in the same run
	$(UV) run python benchmarks/bench_generate.py --subscribers 1000000 --days 1

docs:  ## regenerate the reference pages that come from code
	$(UV) run steward interfaces --markdown > docs/interface-files.md

clean:
	rm -rf var .venv .pytest_cache .mypy_cache .ruff_cache
