# agentcage — plain Makefile. `make` builds build/agentcage; `make test` installs what is
# missing, builds the normal and the ASan+UBSan trees and runs every test in both.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
SAN     ?=

PKGS      := yaml-0.1 libseccomp libssl libcrypto jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wvla -Wimplicit-fallthrough
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(WARN) $(CFLAGS) $(PKG_CFLAGS) \
              -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
LDLIBS  := $(PKG_LIBS) -lutil
# Full RELRO: every symbol bound at load, then the GOT read-only. Hardening, and on a VM
# where each first write to a page costs ~20 us it is cheaper too: a lazy binding writes
# the GOT page again in each forked process (init), after copy-on-write (docs/performance.md).
LDFLAGS += -Wl,-z,relro,-z,now
ifeq ($(SAN),1)
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined -DAGENTCAGE_DEBUG -U_FORTIFY_SOURCE
LDFLAGS    += -fsanitize=address,undefined
endif

LIB_SRC   := $(sort $(filter-out src/cli/main.c,$(wildcard src/*/*.c)))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/default_policy.o
MAIN_OBJ  := $(BUILD)/src/cli/main.o
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
REPLAY_BIN := $(patsubst fuzz/%.c,$(BUILD)/tests/replay_%,$(sort $(wildcard fuzz/*.c)))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

.PHONY: all run test test-asan check-unit install uninstall clean fuzz deps bench format hardening

all: $(BUILD)/agentcage $(UNIT_BIN) $(REPLAY_BIN) $(BENCH_BIN) $(HELPER_BIN)

deps:
	@scripts/install-deps

$(BUILD)/agentcage: $(MAIN_OBJ) $(BUILD)/libagentcage.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libagentcage.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The default policy is compiled into the binary (agentcage policy default).
$(BUILD)/gen/default_policy.c: policies/default.yaml scripts/embed
	@mkdir -p $(dir $@)
	scripts/embed policy_default_yaml $< > $@

$(BUILD)/gen/default_policy.o: $(BUILD)/gen/default_policy.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/t.h $(BUILD)/libagentcage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libagentcage.a $(LDLIBS)

# Each fuzz target replays its committed corpus without libFuzzer (tests/fuzz_replay_main.c).
$(BUILD)/tests/replay_%: fuzz/%.c tests/fuzz_replay_main.c $(BUILD)/libagentcage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ fuzz/$*.c tests/fuzz_replay_main.c $(BUILD)/libagentcage.a $(LDLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libagentcage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libagentcage.a $(LDLIBS)

# `make run`: the README's first command.
run: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/agentcage setup
	@$(BUILD)/agentcage run

# `make test`: the README's second command; .ci/run calls it.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 all
	@tests/run build build-asan

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 all
	@tests/run build-asan

check-unit: all
	@tests/run --unit-only $(BUILD)

bench: all
	@bench/run $(BUILD)

# libFuzzer targets (clang). `make fuzz` builds them and runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(sort $(wildcard fuzz/*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
build-fuzz/%: fuzz/%.c $(filter-out src/cli/main.c,$(wildcard src/*/*.c)) $(wildcard src/*/*.h)
	@mkdir -p build-fuzz/gen
	scripts/embed policy_default_yaml policies/default.yaml > build-fuzz/gen/default_policy.c
	clang -std=c17 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
	  -o $@ $< $(LIB_SRC) build-fuzz/gen/default_policy.c $(PKG_CFLAGS) $(LDLIBS)
fuzz: deps $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p fuzz/corpus/$$n; \
	  echo "fuzzing $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 fuzz/corpus/$$n || exit 1; done

# The long forms of issue 7's standing attacks (docs/reliability.md, fuzz/README.md): the
# load and fault scenarios (1,000,000 connections, 10,000 tunnels: ~10 min), then every
# fuzz target for HARDENING_FUZZ_SECONDS each. `make test` runs the fast forms.
HARDENING_FUZZ_SECONDS ?= 1800
hardening: deps all
	bash bench/faults $(BUILD)
	$(MAKE) fuzz FUZZ_SECONDS=$(HARDENING_FUZZ_SECONDS)

install: $(BUILD)/agentcage
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/agentcage $(DESTDIR)$(PREFIX)/bin/agentcage
	install -m 0644 docs/agentcage.1 $(DESTDIR)$(PREFIX)/share/man/man1/agentcage.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/agentcage $(DESTDIR)$(PREFIX)/share/man/man1/agentcage.1

format:
	clang-format -i $$(find src tests bench fuzz -name '*.[ch]')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
