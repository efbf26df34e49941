# pg_trickle — the front door. Every target is idempotent and says what it does.
#   make run    install what is missing, build, start a demo cluster, show the extension at work
#   make stop   stop the demo cluster
#   make test   the same setup, then lint and every test tier
#   make bench  benchmarks (ratios against baselines measured in the same run)
#   make fuzz   a long fuzz of the legacy-hash parsers and the worst admitted hash costs

SHELL := /bin/bash
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PATH := $(HOME)/.cargo/bin:$(PATH)
export PG_CONFIG

RUN_PORT ?= 28815
E2E_PORT ?= 28816
PGTEST_DIR ?= /tmp/pg_trickle-pgtest
SUDO_FLAG := $(shell [ "$$(id -u)" -eq 0 ] || echo --sudo)
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# cargo pgrx test refuses root unless told which user runs the server.
RUNAS_FLAG := $(shell [ "$$(id -u)" -eq 0 ] && echo --runas postgres)

.PHONY: setup install run stop test lint test-unit test-pg test-e2e bench fuzz

setup:
	@bash scripts/setup.sh

install: setup
	@echo "==> building and installing pg_trickle into $$($(PG_CONFIG) --pkglibdir)"
	cargo pgrx install --pg-config $(PG_CONFIG) $(SUDO_FLAG)
	@# cargo pgrx installs this version's script and the update scripts (sql/pg_trickle--A--B.sql); the install
	@# scripts of earlier releases let CREATE EXTENSION ... VERSION make an old version to update from.
	@echo "==> installing the install scripts of earlier releases (sql/releases/)"
	$(SUDO) install -m 644 sql/releases/pg_trickle--*.sql "$$($(PG_CONFIG) --sharedir)/extension/"

run: install
	@bash scripts/cluster.sh start run $(RUN_PORT) shared_preload_libraries=pg_trickle
	@bash scripts/demo.sh $(RUN_PORT)

stop:
	@bash scripts/cluster.sh stop run
	@if [ -f target/legacy-store-demo.pid ]; then \
	  echo "==> stopping the demo legacy store"; kill "$$(cat target/legacy-store-demo.pid)" 2>/dev/null || true; \
	  rm -f target/legacy-store-demo.pid; fi

lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p pg_trickle --all-targets --features pg_test -- -D warnings

# Tier 1: plain #[test] on the pure core (src/domain, src/legacy_store), no PostgreSQL involved.
test-unit: setup
	cargo test -p pg_trickle --lib -- domain:: legacy_store::

# Tier 2: #[pg_test] inside a backend (plus tier 1 again, which cargo pgrx test runs alongside).
test-pg: setup
	@rm -rf $(PGTEST_DIR)
	cargo pgrx test pg15 $(RUNAS_FLAG) --pgdata $(PGTEST_DIR)

# Tier 3: end-to-end over the wire against the installed extension, with the legacy stores.
test-e2e: install
	@bash scripts/cluster.sh start e2e $(E2E_PORT) fsync=off max_connections=200 shared_preload_libraries=pg_trickle
	@PG_TRICKLE_E2E_PORT=$(E2E_PORT) cargo test -p pg_trickle_e2e; rc=$$?; \
	  bash scripts/cluster.sh stop e2e; exit $$rc

test: lint test-unit test-pg test-e2e
	@echo "==> all test tiers passed"

bench: install
	@bash scripts/bench.sh

# The legacy-hash parsers under a long mutation fuzz (make test runs a short one), then the worst admitted cost
# of every bounded format, timed in a release build.
fuzz: setup
	PG_TRICKLE_FUZZ_ROUNDS=500000 cargo test --release -p pg_trickle --lib -- domain::legacy_hash::tests::mutated
	cargo test --release -p pg_trickle --lib -- --ignored worst_admitted --nocapture
