# One door for every chore (STYLE.md §10). The README and .ci/run call these targets.
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: install demo test pytest lint format types imports bench docs clean browser messages

install:  ## install uv (pinned) and every locked dependency into .venv
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen

demo: install  ## the whole loop on a small synthetic city, then the API server
	$(UV) run steward demo

test: install browser lint types imports pytest  ## everything CI checks

browser:  ## Debian's Chromium for the workbench's browser tests (as root; otherwise they skip)
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	fi
	@[ -x /usr/bin/chromium ] || echo "no /usr/bin/chromium: the browser tests will skip (CI installs it)"

messages:  ## list the workbench's strings (messages.pot) to translate into the .po catalogues
	$(UV) run pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o messages.pot .
	@echo "messages.pot: add what is new to src/steward/web/locale/zh_CN/LC_MESSAGES/*.po"

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
