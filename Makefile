# zorina-db: the two commands of README.md, each installing what is missing first.
#   make demo   the main job end to end on the embedded cluster
#   make test   the whole test suite against a real PostgreSQL 15 + pg_cron
VENV    ?= .venv
PYTHON  ?= python3
PGBIN   := /usr/lib/postgresql/15/bin
PGLIB   := /usr/lib/postgresql/15/lib
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test system venv clean

demo: system venv
	$(VENV)/bin/zorina-db demo

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: system venv
	@$(VENV)/bin/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# PostgreSQL 15 server and pg_cron from Debian, only when missing.
system:
	@if [ ! -x $(PGBIN)/initdb ] || [ ! -f $(PGLIB)/pg_cron.so ]; then \
		echo "installing postgresql-15 and postgresql-15-cron"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-15 postgresql-15-cron; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

clean:
	-$(VENV)/bin/zorina-db embedded stop
	rm -rf .zorina $(VENV) *.egg-info
