# chatkitd — the two commands are `make run` and `make test` (see README.md).
# meson + ninja do the building; this file only names the common tasks.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
LISTEN     ?= 127.0.0.1:8000
DATA_DIR   ?= ./data

.PHONY: all build run test unit e2e fuzz bench format lint clean

all: build

# Configure once, then let ninja decide what to rebuild.
$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Dtests=false

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# One command from a fresh Debian 12: install what is missing, build, serve.
run:
	@scripts/bootstrap build
	@$(MAKE) --no-print-directory build
	exec $(BUILD)/chatkitd serve --listen $(LISTEN) --data-dir $(DATA_DIR)

# One command from a fresh Debian 12: install what is missing, build with ASan+UBSan, run every
# test (unit, end-to-end, fuzz smoke), and print "N passed, N failed".
test:
	@scripts/bootstrap test
	@scripts/test

fuzz:
	@scripts/bootstrap test
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/test fuzz

bench:
	@scripts/bootstrap bench
	@$(MAKE) --no-print-directory build
	@bench/run

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

lint:
	scripts/lint

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
