# ipcbox: one multicall binary, libc only.
#
#   make            build ./ipcbox (gcc, -Wall -Wextra -Werror)
#   make test       the bats suite against ./ipcbox
#   make check      the suite against an ASan+UBSan build (./ipcbox-asan)
#   make fuzz       build and run the libFuzzer targets in tests/fuzz (clang), FUZZ_SECONDS=60 each
#   make bench      side-by-side benchmarks (bench/run)
#   make demo       a guided tour on loopback and a private bus
#   make install    PREFIX=/usr/local DESTDIR=  binary, applet links, man pages, completions
#   make clean

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -I.
LDLIBS  += -lm
LDFLAGS += -Wl,--as-needed
PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man/man1

SRCS    := main.c $(wildcard applets/*.c) $(wildcard lib/*.c) $(wildcard lib/*/*.c)
LIBSRCS := $(wildcard lib/*.c) $(wildcard lib/*/*.c)
HDRS    := $(wildcard applets/*.h) $(wildcard lib/*.h) $(wildcard lib/*/*.h)
UNITS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*.c))

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

all: ipcbox units

ipcbox: $(patsubst %.c,build/rel/%.o,$(SRCS))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ipcbox-asan: $(patsubst %.c,build/asan/%.o,$(SRCS))
	$(CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

build/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ASAN_FLAGS) $(WARN) -c -o $@ $<

# Unit tests: tests/unit/NAME.c linked with lib/, run from the bats files.
units: $(patsubst %,build/rel/unit/%,$(UNITS))
units-asan: $(patsubst %,build/asan/unit/%,$(UNITS))

build/rel/unit/%: tests/unit/%.c $(patsubst %.c,build/rel/%.o,$(LIBSRCS)) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(patsubst %.c,build/rel/%.o,$(LIBSRCS)) $(LDLIBS)

build/asan/unit/%: tests/unit/%.c $(patsubst %.c,build/asan/%.o,$(LIBSRCS)) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ASAN_FLAGS) $(WARN) -o $@ $< $(patsubst %.c,build/asan/%.o,$(LIBSRCS)) $(LDLIBS)

test: all
	tests/run

# A sanitizer report ends the process at once (halt_on_error) with exit 86,
# a code of its own: ipcbox never exits 86, so `assert_status 1` cannot
# mistake a report for an ordinary failure, and the harness fails any test
# in which a command exits 86 (tests/helpers.bash).  ASan, UBSan and LSan
# share one exit code: the runtimes parse their option variables into one
# common set, so distinct codes per sanitizer are not to be had.
SAN_EXIT := 86
check: ipcbox-asan units-asan
	ASAN_OPTIONS=exitcode=$(SAN_EXIT):halt_on_error=1:abort_on_error=0:detect_leaks=1 \
	UBSAN_OPTIONS=exitcode=$(SAN_EXIT):halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=exitcode=$(SAN_EXIT) \
	IPCBOX=$(CURDIR)/ipcbox-asan IPCBOX_UNIT=$(CURDIR)/build/asan/unit tests/run

# Both compilers must build the tree without a warning.
clang:
	$(MAKE) -B ipcbox CC=clang BUILD_TAG=clang

# make fuzz FUZZ_SECONDS=N: N seconds per target, nproc targets at a time.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

bench: ipcbox
	bench/run

demo: ipcbox
	demo/tour.sh

install: ipcbox
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 755 ipcbox $(DESTDIR)$(BINDIR)/ipcbox
	for a in $$(./ipcbox --list); do ln -f $(DESTDIR)$(BINDIR)/ipcbox $(DESTDIR)$(BINDIR)/$$a; done
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 completions/ipcbox.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ipcbox
	for a in $$(./ipcbox --list); do ln -sf ipcbox $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$a; done
	install -d $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 644 completions/_ipcbox $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ipcbox
	install -d $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 644 completions/ipcbox.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ipcbox.fish

clean:
	rm -rf build ipcbox ipcbox-asan

.PHONY: all units units-asan test check clang fuzz bench demo install clean
