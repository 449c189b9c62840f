# The two commands of the README. Both do the whole set-up of a fresh machine first
# (deploy/setup.sh is idempotent, so running them again is cheap).
.PHONY: demo test check setup up down

VENV := .venv/bin

demo: setup
	$(VENV)/jiuye demo

# The type checker and the linter, as pyproject.toml's [tool.mypy] and [tool.ruff] configure
# them; `make test` runs them first and stops on a finding.
check: setup
	$(VENV)/mypy
	$(VENV)/ruff check .

# pytest exits 5 when it collected no test: that is a failure here, never a green run.
test: setup check up
	@$(VENV)/python -m pytest -ra $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

setup:
	@bash deploy/setup.sh

up:
	$(VENV)/jiuye dev up

down:
	$(VENV)/jiuye dev down
