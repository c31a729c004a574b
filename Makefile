# The two commands from the README:
#   make demo   set everything up and run the main job
#   make test   set everything up and run every test
PY := .venv/bin/python
# Tools nbgrader and nbval start (alembic, jupyter, kernels) come from .venv.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: help setup demo test unit notebooks validate lint format bench bench-grading lab clean

help:
	@echo "make demo    set up, then run the main job (release, then grade a demo class)"
	@echo "make test    set up, then run all tests (unit, notebooks, lint)"
	@echo "make setup   create .venv and install everything (idempotent)"
	@echo "make bench   benchmark scripts (print measured ratios; grading on 12 students)"
	@echo "make bench-grading   grading benchmark on the full 40-student demo class"
	@echo "make lab     open JupyterLab with nbgrader on this course"
	@echo "make format  ruff format + fix"

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m autograder demo

test: setup lint unit notebooks validate

unit:
	$(PY) -m pytest tests

notebooks:
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
		$(PY) -m pytest --nbval notebooks --nbval-sanitize-with .ci/nbval_sanitize.cfg; \
	else echo "no lecture notebooks yet"; fi
	@if ls source/*/*.ipynb >/dev/null 2>&1; then \
		$(PY) -m pytest --nbval-lax source; \
	else echo "no assignments yet"; fi

validate:
	$(PY) -m autograder validate

lint:
	$(PY) -m ruff check autograder demo tests benchmarks scripts
	$(PY) -m ruff format --check autograder demo tests benchmarks scripts

format:
	$(PY) -m ruff format autograder demo tests benchmarks scripts
	$(PY) -m ruff check --fix autograder demo tests benchmarks scripts

bench: setup
	$(PY) benchmarks/bench_checks.py
	$(PY) benchmarks/measure_checker.py
	$(PY) benchmarks/bench_grading.py --students 12

bench-grading: setup
	$(PY) benchmarks/bench_grading.py

lab: setup
	.venv/bin/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:
	rm -rf submitted autograded feedback exports collect_backup gradebook.db demo_output .pytest_cache
