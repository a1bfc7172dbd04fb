# ipcbox: one multicall binary, libc only.
#
#   make            build ./ipcbox (gcc, -Wall -Wextra -Werror)
#   make test       the bats suite against ./ipcbox
#   make check      the suite against an ASan+UBSan build (./ipcbox-asan)
#   make fuzz       build and run the libFuzzer targets in tests/fuzz (clang), FUZZ_SECONDS=60 each
#   make bench      side-by-side benchmarks (bench/run)
#   make demo       a guided tour on loopback and a private bus
#   make check-mermaid  render bus-diagram --mermaid with the npm mermaid package (needs npm)
#   make static     ./ipcbox-static: musl, static, stripped (musl-tools)
#   make deb        ipcbox_VERSION_ARCH.deb with dpkg-deb alone (packaging/mkdeb.sh)
#   make install    PREFIX=/usr/local DESTDIR=  the package's files: binary, man
#                   pages, completions, copyright, changelog (applet links:
#                   'ipcbox --install [-s] DIR')
#   make uninstall  the same PREFIX and DESTDIR: removes what install put there
#   make clean

CC      ?= gcc
# No unwind tables: C throws nothing through these frames, and gdb reads
# the frames from -g's .debug_frame; they were a tenth of the stripped
# binary (36 KiB of 376, against a goal of 360).
NO_UNWIND := -fno-asynchronous-unwind-tables
CFLAGS  ?= -O2 -g $(NO_UNWIND)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -I.
LDLIBS  += -lm
LDFLAGS += -Wl,--as-needed
PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man/man1
# The completion directories are the ones the Debian package uses.
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  := $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR := $(PREFIX)/share/fish/vendor_completions.d
DOCDIR      := $(PREFIX)/share/doc/ipcbox
# The binary 'make install' copies (make deb: its hardened build).
INSTALL_BIN ?= ipcbox
VERSION := $(shell sed -n 's/^\#define IPCBOX_VERSION "\(.*\)"$$/\1/p' main.c)
MANPAGES := $(notdir $(wildcard man/*.1))

SRCS    := main.c $(wildcard applets/*.c) $(wildcard lib/*.c) $(wildcard lib/*/*.c)
LIBSRCS := $(wildcard lib/*.c) $(wildcard lib/*/*.c)
HDRS    := $(wildcard applets/*.h) $(wildcard lib/*.h) $(wildcard lib/*/*.h)
UNITS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*.c))

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

all: ipcbox units

ipcbox: $(patsubst %.c,build/rel/%.o,$(SRCS))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The static binary: musl (Debian's musl-tools), -Os, unused sections
# dropped, stripped.  Its own object tree: never a glibc-compiled object.
MUSL_CC     ?= musl-gcc
MUSL_CFLAGS ?= -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie -fno-jump-tables -flto=auto -flto-partition=one
ipcbox-static: $(patsubst %.c,build/musl/%.o,$(SRCS))
	$(MUSL_CC) $(MUSL_CFLAGS) -static -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -o $@ $^ $(LDLIBS)
	strip --strip-all --remove-section=.comment --remove-section=.note $@

static: ipcbox-static
	@ls -l ipcbox-static | awk '{ printf "ipcbox-static: %d bytes (%.1f KiB)\n", $$5, $$5 / 1024 }'

build/musl/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(CPPFLAGS) -DIPCBOX_NO_TLS $(MUSL_CFLAGS) $(WARN) -c -o $@ $<

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

# make soak SOAK_SECONDS=N: N seconds of load and faults per scenario.
SOAK_SECONDS ?= 30
soak: ipcbox
	SOAK_SECONDS=$(SOAK_SECONDS) soak/run

demo: ipcbox
	demo/tour.sh

# Mermaid itself renders bus-diagram --mermaid in headless Chromium: needs
# npm and its registry (not in CI, which has only the Debian mirror).
check-mermaid: ipcbox
	tests/check-mermaid.sh

# Man pages and the changelog gzipped as Debian wants them (-9, no name or time).
build/gz/%.1.gz: man/%.1
	@mkdir -p $(dir $@)
	gzip -9n <$< >$@

build/gz/changelog.gz: packaging/changelog
	@mkdir -p $(dir $@)
	gzip -9n <$< >$@

# What the Debian package holds, under PREFIX (the package: PREFIX=/usr).
# No applet links: 33 generic command names do not belong in a shared bin
# directory; 'ipcbox --install [-s] DIR' makes them where a user wants them.
# The bash completion is also linked under each applet's name, so links
# made that way complete too (bash-completion loads by command name).
install: $(INSTALL_BIN) $(patsubst %,build/gz/%.gz,$(MANPAGES)) build/gz/changelog.gz
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/ipcbox
	install -m 644 $(patsubst %,build/gz/%.gz,$(MANPAGES)) $(DESTDIR)$(MANDIR)/
	install -m 644 completions/ipcbox.bash $(DESTDIR)$(BASHCOMPDIR)/ipcbox
	for a in $$($(abspath $(INSTALL_BIN)) --list); do ln -sfn ipcbox $(DESTDIR)$(BASHCOMPDIR)/$$a || exit 1; done
	install -m 644 completions/_ipcbox $(DESTDIR)$(ZSHCOMPDIR)/_ipcbox
	install -m 644 completions/ipcbox.fish $(DESTDIR)$(FISHCOMPDIR)/ipcbox.fish
	install -m 644 packaging/copyright $(DESTDIR)$(DOCDIR)/copyright
	install -m 644 build/gz/changelog.gz $(DESTDIR)$(DOCDIR)/changelog.gz

# Removes the files install made (directories stay: they may be shared) and
# the applet links 'ipcbox --install' made beside the binary.
uninstall:
	if [ -e $(DESTDIR)$(BINDIR)/ipcbox ]; then \
		find $(DESTDIR)$(BINDIR) -maxdepth 1 ! -name ipcbox \( -samefile $(DESTDIR)$(BINDIR)/ipcbox \
			-o -lname ipcbox -o -lname $(BINDIR)/ipcbox \) -delete; fi
	rm -f $(DESTDIR)$(BINDIR)/ipcbox $(patsubst %,$(DESTDIR)$(MANDIR)/%.gz,$(MANPAGES)) \
		$(DESTDIR)$(ZSHCOMPDIR)/_ipcbox $(DESTDIR)$(FISHCOMPDIR)/ipcbox.fish \
		$(DESTDIR)$(DOCDIR)/copyright $(DESTDIR)$(DOCDIR)/changelog.gz
	if [ -d $(DESTDIR)$(BASHCOMPDIR) ]; then \
		find $(DESTDIR)$(BASHCOMPDIR) -maxdepth 1 \( -name ipcbox -o -lname ipcbox \) -delete; fi
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# The Debian package's binary: the distribution's hardening flags.
DEB_ENV      := DEB_BUILD_MAINT_OPTIONS=hardening=+all
DEB_CFLAGS   = $(shell $(DEB_ENV) dpkg-buildflags --get CFLAGS) $(NO_UNWIND)
DEB_CPPFLAGS = $(shell $(DEB_ENV) dpkg-buildflags --get CPPFLAGS)
DEB_LDFLAGS  = $(shell $(DEB_ENV) dpkg-buildflags --get LDFLAGS)

build/deb/ipcbox: $(patsubst %.c,build/deb/%.o,$(SRCS))
	$(CC) $(DEB_CFLAGS) $(DEB_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/deb/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEB_CPPFLAGS) $(DEB_CFLAGS) $(WARN) -c -o $@ $<

# DEB_OUT: the directory the .deb is written to (default: here).
DEB_OUT ?= .
deb: build/deb/ipcbox
	rm -rf build/pkg
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/build/pkg PREFIX=/usr INSTALL_BIN=build/deb/ipcbox
	packaging/mkdeb.sh build/pkg $(VERSION) $(DEB_OUT)

clean:
	rm -rf build ipcbox ipcbox-asan ipcbox-static ipcbox_*.deb

.PHONY: all units units-asan test check clang fuzz bench soak demo check-mermaid static deb install uninstall clean
