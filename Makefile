# aksnap -- build, test, install.
#
# WireGuard-tools style: PREFIX/DESTDIR, every dependency through
# $(PKG_CONFIG), automatic header dependencies, quiet unless V=1.
# On a fresh Debian 12 machine `make check` installs what is missing
# (as root) or prints the exact apt-get line (otherwise): see tools/deps.sh.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
PKG_CONFIG ?= pkg-config
# Units and completion follow PREFIX (systemd reads /usr/local/lib/systemd/system,
# bash-completion every $$XDG_DATA_DIRS/bash-completion/completions); the
# Debian package passes SYSTEMDUNITDIR=/lib/systemd/system.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(or $(shell $(PKG_CONFIG) --define-variable=datadir=$(PREFIX)/share \
	--variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
DESTDIR ?=

BUILD ?= build
CC ?= cc
SAN ?=

ifeq ($(V),1)
Q =
E = @:
else
Q = @
E = @printf '  %-7s %s\n'
endif

# The pkg-config answers are written once by tools/deps.sh into
# $(BUILD)/deps.mk; make restarts after remaking an included makefile, so
# on a fresh machine the packages are installed before the flags are read.
NODEPS_GOALS := clean uninstall help
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
else
-include $(BUILD)/deps.mk
endif

# snprintf into fixed buffers truncates on purpose (bounded error and log
# text), so GCC's guesses about truncation are not errors; overflow is.
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Werror
# GCC only: clang has no -Wformat-truncation (and does not warn about it).
# Decided by the compiler's name, not by a probe compile: a probe that
# failed for any other reason (a busy machine) dropped the flag and made
# GCC's guesses errors.  A compiler that does not say clang is GCC.
ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
WARN += -Wno-format-truncation
endif
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O2 $(WARN) -I. -MMD -MP
ifeq ($(SAN),1)
# (a debug build too: AKSNAP_DEBUG turns refused misuses into assertions)
BASE_CFLAGS += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -DAKSNAP_DEBUG
SAN_LDFLAGS = -fsanitize=address,undefined
else
BASE_CFLAGS += -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN_LDFLAGS =
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(DEPS_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)

LIB_SRCS := $(filter-out job/cmd/main.c,$(wildcard job/*/*.c config/*.c db/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

EMU_SRCS := $(wildcard tests/armemu/*.c)
EMU_OBJS := $(EMU_SRCS:%.c=$(BUILD)/%.o)

# Tests mirror the tree: tests/unit/<floor>/test_X.c tests the floor of the
# same name (base, rules, azure, db, config, run, cmd); tests/e2e/test_X.c
# are flat, one program per command or behaviour (HACKING.md).
UNIT_FLOORS := base rules azure db config run cmd
UNIT_SRCS := $(foreach f,$(UNIT_FLOORS),$(wildcard tests/unit/$(f)/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_STRAYS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/test_*.c tests/unit/*/test_*.c))
ifneq ($(UNIT_STRAYS),)
$(error unit tests live in tests/unit/<floor>/test_*.c (floors: $(UNIT_FLOORS)); move $(UNIT_STRAYS))
endif
E2E_SUPPORT_SRCS := $(filter-out tests/e2e/test_%.c,$(wildcard tests/e2e/*.c))
E2E_SUPPORT_OBJS := $(E2E_SUPPORT_SRCS:%.c=$(BUILD)/%.o)
E2E_SRCS := $(wildcard tests/e2e/test_*.c)
E2E_BINS := $(E2E_SRCS:tests/e2e/%.c=$(BUILD)/tests/e2e/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)

AKSNAP := $(BUILD)/aksnap
ARMEMU := $(BUILD)/armemu
TEST_BINS := $(UNIT_BINS) $(E2E_BINS)

.PHONY: FORCE all deps programs check check-unit check-e2e check-sanitize check-valgrind demo demo-ladder demo-pause bench \
	install install-files uninstall clean format lint help fuzz

all: $(AKSNAP) $(ARMEMU) links

ifeq ($(BUILD),build)
links: aksnap tests/armemu/armemu
aksnap: $(AKSNAP)
	$(Q)ln -sf $(AKSNAP) $@
tests/armemu/armemu: $(ARMEMU)
	$(Q)ln -sf ../../$(ARMEMU) $@
else
links:
endif

deps: $(BUILD)/deps.mk

$(BUILD)/deps.mk: tools/deps.sh
	$(Q)mkdir -p $(BUILD)
	$(Q)PKG_CONFIG="$(PKG_CONFIG)" sh tools/deps.sh $@

$(BUILD)/%.o: %.c | $(BUILD)/deps.mk
	@mkdir -p $(@D)
	$(E) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The list of migrations is a prerequisite too: a migration taken out (a
# revert) leaves every remaining file older than the generated table,
# which would go on embedding it.  The list file changes only when the
# list does.
$(BUILD)/gen/migrations.list: FORCE
	@mkdir -p $(@D)
	@echo '$(MIGRATIONS)' | cmp -s - $@ || echo '$(MIGRATIONS)' > $@

FORCE:

$(BUILD)/gen/migrations.c: $(MIGRATIONS) $(BUILD)/gen/migrations.list tools/embed-migrations.sh
	@mkdir -p $(@D)
	$(E) GEN $@
	$(Q)sh tools/embed-migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(E) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libaksnap.a: $(LIB_OBJS)
	$(E) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(AKSNAP): $(BUILD)/job/cmd/main.o $(BUILD)/libaksnap.a
	$(E) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS) -lpthread

$(ARMEMU): $(EMU_OBJS)
	$(E) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(EMU_LIBS) -lpthread

# A floor's shared fixture (tests/unit/<floor>/fixture.c), when it has one,
# is linked into each of that floor's tests; the base floor's into every
# unit test (the bottom floor: any test may use it).
UNIT_FIXTURE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/unit/*/fixture.c))
.SECONDEXPANSION:
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $$(filter $(BUILD)/tests/unit/base/fixture.o $(BUILD)/tests/unit/$$(*D)/fixture.o,$(UNIT_FIXTURE_OBJS)) $(BUILD)/libaksnap.a
	$(E) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(TEST_LIBS) -lpthread

$(BUILD)/tests/e2e/%: $(BUILD)/tests/e2e/%.o $(E2E_SUPPORT_OBJS) $(BUILD)/libaksnap.a
	$(E) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(TEST_LIBS) -lpthread

# Fuzz targets replay their corpus (tests/sh/test_fuzz_regression.sh) with
# tests/fuzz/driver.c as main; `make fuzz` runs them under libFuzzer.
$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/driver.o $(BUILD)/libaksnap.a
	$(E) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS) -lpthread

# The shell checks `make check` runs, before the C programs: the package
# build (test_deb.sh, the longest) then overlaps them when TEST_JOBS > 1.
CHECK_SCRIPTS ?= $(wildcard tests/sh/test_*.sh)
# How many test programs run at once (tests/run-tests.sh); CI gives its
# core count.  1 by default: the development machine is shared.
TEST_JOBS ?= 1
export TEST_JOBS

check: all $(TEST_BINS) $(FUZZ_BINS)
	$(Q)AKSNAP_BIN=$(abspath $(AKSNAP)) ARMEMU_BIN=$(abspath $(ARMEMU)) \
	  FUZZ_BIN_DIR=$(abspath $(BUILD)/tests/fuzz) \
	  sh tests/run-tests.sh $(CHECK_SCRIPTS) $(TEST_BINS)

check-unit: all $(UNIT_BINS)
	$(Q)sh tests/run-tests.sh $(UNIT_BINS)

# Every program, test and fuzz target built, nothing run (CI's clang pass).
programs: all $(TEST_BINS) $(FUZZ_BINS)

# Under the sanitizers: every C program and the fuzz corpora's replay; the
# other shell checks (packaging, install, man pages, completion, manifests,
# layers) look at files, not at aksnap's memory, and ran in `make check`.
check-sanitize:
	$(Q)$(MAKE) --no-print-directory BUILD=build-san SAN=1 \
	  CHECK_SCRIPTS=tests/sh/test_fuzz_regression.sh check

# valgrind over the unit tests, and over every aksnap process the
# end-to-end tests start (AKSNAP_WRAPPER is read by tests/e2e/harness.c).
check-valgrind: all $(TEST_BINS)
	$(Q)AKSNAP_BIN=$(abspath $(AKSNAP)) ARMEMU_BIN=$(abspath $(ARMEMU)) \
	  AKSNAP_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  TEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  sh tests/run-tests.sh $(TEST_BINS)

# Coverage-guided fuzzing (clang + libFuzzer; not part of check or CI):
# every tests/fuzz/fuzz_*.c for FUZZ_SECONDS each, or only FUZZ_TARGETS
# (e.g. "arm token").  See tests/fuzz/README.md.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz
FUZZ_TARGETS ?= $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)

fuzz:
	$(Q)command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	  echo "aksnap: make fuzz needs clang and libFuzzer; run as root: apt-get install -y clang libclang-rt-14-dev" >&2; \
	  exit 1; }
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) SAN=1 \
	  CFLAGS="-fsanitize=fuzzer-no-link -Wno-unknown-warning-option" $(FUZZ_BUILD)/libaksnap.a
	$(Q)FUZZ_CC="$(FUZZ_CC)" FUZZ_SECONDS="$(FUZZ_SECONDS)" \
	  FUZZ_CFLAGS="$(DEPS_CFLAGS)" FUZZ_LIBS="$(DEPS_LIBS) -lpthread" \
	  sh tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

demo: all
	$(Q)AKSNAP_BIN=$(abspath $(AKSNAP)) ARMEMU_BIN=$(abspath $(ARMEMU)) sh tests/demo.sh

# The compass rows "channel ladders" and "pause", one command each.
demo-ladder demo-pause: all
	$(Q)AKSNAP_BIN=$(abspath $(AKSNAP)) ARMEMU_BIN=$(abspath $(ARMEMU)) sh tests/demo-ladder.sh $(@:demo-%=%)

bench: all
	$(Q)AKSNAP_BIN=$(abspath $(AKSNAP)) ARMEMU_BIN=$(abspath $(ARMEMU)) sh tests/bench/bench.sh

# /etc/aksnap is 0755 and the example 0644: the configuration holds no
# secret, and the service's dynamic user must read it (systemd/aksnap.service).
# install-files installs without building the emulator (debian/rules).
install: all install-files

install-files: $(AKSNAP)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/aksnap
	install -m 0755 $(AKSNAP) $(DESTDIR)$(BINDIR)/aksnap
	install -m 0644 man/aksnap.8 $(DESTDIR)$(MANDIR)/man8/aksnap.8
	install -m 0644 man/aksnap.ini.5 $(DESTDIR)$(MANDIR)/man5/aksnap.ini.5
	sed 's|/usr/local/bin/aksnap|$(BINDIR)/aksnap|' systemd/aksnap.service > $(BUILD)/aksnap.service
	install -m 0644 $(BUILD)/aksnap.service systemd/aksnap.timer $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 completion/aksnap.bash $(DESTDIR)$(BASHCOMPDIR)/aksnap
	install -m 0644 config/aksnap.ini.example $(DESTDIR)$(SYSCONFDIR)/aksnap/aksnap.ini.example

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aksnap $(DESTDIR)$(MANDIR)/man8/aksnap.8 \
	  $(DESTDIR)$(MANDIR)/man5/aksnap.ini.5 $(DESTDIR)$(SYSTEMDUNITDIR)/aksnap.service \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/aksnap.timer $(DESTDIR)$(BASHCOMPDIR)/aksnap \
	  $(DESTDIR)$(SYSCONFDIR)/aksnap/aksnap.ini.example

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The lint checks .ci/run runs: every C file formatted as .clang-format
# says, cppcheck's warning/performance/portability classes clean, and the
# layers' include rule (also part of `make check`).
CPPCHECK_FLAGS = --quiet --std=c11 -D_GNU_SOURCE -I. --inline-suppr \
	--enable=warning,performance,portability --error-exitcode=1
lint:
	$(E) FORMAT "clang-format --dry-run --Werror"
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	$(E) CPPCHK "job config db tests/armemu"
	$(Q)cppcheck $(CPPCHECK_FLAGS) job config db tests/armemu
	$(Q)sh tests/sh/test_layers.sh
	$(E) SHCHECK "shellcheck -S warning: every shell script"
	$(Q)shellcheck -S warning -x -P SCRIPTDIR .ci/run $$(git ls-files '*.sh') completion/aksnap.bash
	$(E) MANDOC "mandoc -T lint -W style man/*"
	$(Q)out=$$(mandoc -T lint -W style man/aksnap.8 man/aksnap.ini.5 2>&1); \
	  [ -z "$$out" ] || { echo "$$out"; exit 1; }

clean:
	rm -rf build build-san build-fuzz build-deb aksnap tests/armemu/armemu

help:
	@echo "targets: all programs check check-unit check-sanitize check-valgrind fuzz demo demo-ladder demo-pause bench install uninstall clean deps format lint"

# Keep test objects: they are intermediate to make, which would delete and
# rebuild them on every run.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
