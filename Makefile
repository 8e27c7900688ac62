# The README's two commands: `make demo` and `make test`. Each installs what is missing.
SWIFT ?= swift

.PHONY: deps build test lint demo bench clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

test: deps
	scripts/with-postgres $(SWIFT) test

# Every workflow under .github/workflows must pass actionlint.
lint: deps
	actionlint

demo: deps
	$(SWIFT) build
	scripts/with-postgres scripts/demo

bench: deps
	$(SWIFT) build -c release --product barfill-bench
	BARFILL_PG_DURABLE=1 scripts/with-postgres .build/release/barfill-bench

clean:
	rm -rf .build
