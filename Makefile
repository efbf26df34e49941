# pg_trickle — the front door. Every target is idempotent and says what it does.
#   make run    install what is missing, build, start a demo cluster, show the extension at work
#   make stop   stop the demo cluster
#   make test   the same setup, then lint and every test tier
#   make bench  benchmarks (ratios against baselines measured in the same run)
#   make fuzz   a long fuzz of the legacy-hash parsers and the worst admitted hash costs
#   make package  a Debian package of the release build (target/postgresql-<major>-pg-trickle_<version>_<arch>.deb)
# Another PostgreSQL major, where it is installed: make test PG=16 (the only change needed).

SHELL := /bin/bash
PG ?= 15
PG_CONFIG ?= /usr/lib/postgresql/$(PG)/bin/pg_config
export PATH := $(HOME)/.cargo/bin:$(PATH)
export PG PG_CONFIG
# The pgrx feature of that major, for the cargo commands that build pg_trickle without cargo pgrx.
PG_FEATURES := --no-default-features --features pg$(PG)

RUN_PORT ?= 28815
E2E_PORT ?= 28816
INSTALL_TEST_PORT ?= 28819
PACKAGE_TEST_PORT ?= 28820
MARIADB_PORT ?= 28821
USER_NAME := $(shell id -un)
# Scratch space is per user: another user's leftovers there cannot be removed.
PGTEST_DIR ?= /tmp/pg_trickle-$(USER_NAME)-pgtest
# Extra arguments for the end-to-end run, e.g. E2E_ARGS="--test security" for one file.
E2E_ARGS ?=
# cargo pgrx test refuses root unless told which user runs the server; an ordinary user runs it as themself
# (pgrx then installs through sudo).
RUNAS_FLAG := --runas $(shell [ "$$(id -u)" -eq 0 ] && echo postgres || echo $(USER_NAME))

.PHONY: setup install run stop test lint test-unit test-pg test-e2e test-install package test-package bench fuzz

setup:
	@bash scripts/setup.sh

# The package tree holds the library, this version's script and the update scripts (sql/pg_trickle--A--B.sql);
# the install scripts of earlier releases let CREATE EXTENSION ... VERSION make an old version to update from.
# scripts/install.sh renames each file into place: running servers that have the library loaded survive.
install: setup
	@echo "==> building pg_trickle and installing it into $$($(PG_CONFIG) --pkglibdir) (each file renamed into place)"
	@rm -rf target/install-tree
	cargo pgrx package --debug --pg-config $(PG_CONFIG) --out-dir target/install-tree
	bash scripts/install.sh target/install-tree
	@echo "==> installing the install scripts of earlier releases (sql/releases/)"
	bash scripts/install.sh --releases

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
	cargo clippy --workspace --exclude pg_trickle --all-targets -- -D warnings
	cargo clippy -p pg_trickle $(PG_FEATURES) --all-targets -- -D warnings
	cargo clippy -p pg_trickle $(PG_FEATURES) --all-targets --features pg_test -- -D warnings

# Tier 1: plain #[test] on the pure core (src/domain, src/legacy_store), no PostgreSQL involved.
test-unit: setup
	cargo test -p pg_trickle $(PG_FEATURES) --lib -- domain:: legacy_store::

# Tier 2: #[pg_test] inside a backend (plus tier 1 again, which cargo pgrx test runs alongside).
test-pg: setup
	@rm -rf $(PGTEST_DIR)
	@# cargo pgrx test copies the library over the installed one; give that file a fresh inode first, so the
	@# copy cannot write into a library a running server has loaded.
	bash scripts/install.sh --detach
	cargo pgrx test pg$(PG) $(RUNAS_FLAG) --pgdata $(PGTEST_DIR)

# Tier 3: end-to-end over the wire against the installed extension, with the legacy stores (the tests start the
# MariaDB server when they first need it).
test-e2e: install
	@bash scripts/cluster.sh start e2e $(E2E_PORT) fsync=off max_connections=200 shared_preload_libraries=pg_trickle
	@PG_TRICKLE_E2E_PORT=$(E2E_PORT) PG_TRICKLE_MARIADB_PORT=$(MARIADB_PORT) cargo test -p pg_trickle_e2e $(E2E_ARGS); \
	  rc=$$?; bash scripts/cluster.sh stop e2e; bash scripts/mariadb.sh stop; exit $$rc

# A running server with pg_trickle preloaded, and a session on it, survive `make install`.
test-install: install
	@bash scripts/test-install.sh $(INSTALL_TEST_PORT)

package: setup
	@bash scripts/package.sh

# The package installs with apt and works: CREATE EXTENSION and a login on a cluster of its own.
test-package: package
	@bash scripts/test-package.sh $(PACKAGE_TEST_PORT)

test: lint test-unit test-pg test-e2e test-install test-package
	@echo "==> all test tiers passed"

bench: install
	@bash scripts/bench.sh

# The legacy-hash parsers under a long mutation fuzz (make test runs a short one), then the worst admitted cost
# of every bounded format, timed in a release build.
fuzz: setup
	PG_TRICKLE_FUZZ_ROUNDS=500000 cargo test --release -p pg_trickle $(PG_FEATURES) --lib -- domain::legacy_hash::tests::mutated
	cargo test --release -p pg_trickle $(PG_FEATURES) --lib -- --ignored worst_admitted --nocapture
