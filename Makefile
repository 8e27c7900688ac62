# The README's two commands: `make demo` and `make test`. Each installs what is missing.
SWIFT ?= swift

.PHONY: deps build test trials lint workflows demo bench clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# Serial: the rate-limit and crash-safety tests run on time-scaled clocks, and on 2 cores a
# parallel run starves them of the few hundred milliseconds a scaled window lasts.
# BARFILL_REQUIRE_ALL=1: a test that would skip (no PostgreSQL, no pgbouncer, no jsonschema) fails instead.
test: deps
	BARFILL_REQUIRE_ALL=1 scripts/with-postgres $(SWIFT) test --no-parallel

# The fault trial (Tests/trials/fault-trial): SIGKILLs, provider faults and a restarted database
# against the debug build `make test` made; its own PostgreSQL and pgbouncer. About two minutes.
trials: deps
	Tests/trials/fault-trial

# Every workflow under .github/workflows must pass actionlint.
lint: deps
	actionlint

# The workflows' shell: shellcheck over every run: block and the shell scripts under scripts/, then
# the harness that runs the steps against stubbed barfill and gh (scenarios in Tests/workflows/).
# Needs root (the workspace of a container job belongs to another user); no Swift toolchain.
workflows:
	@scripts/install-deps workflows
	python3 scripts/workflow-harness shellcheck
	python3 scripts/workflow-harness

demo: deps
	$(SWIFT) build
	scripts/with-postgres scripts/demo

bench: deps
	$(SWIFT) build -c release --product barfill
	$(SWIFT) build -c release --product barfill-bench
	BARFILL_PG_DURABLE=1 scripts/with-postgres .build/release/barfill-bench

clean:
	rm -rf .build
