# Thin wrapper around meson; see README.md.
BUILDDIR ?= build
ASANDIR ?= build-asan
MESON_TEST ?= meson test --print-errorlogs --num-processes 2

.PHONY: all deps build check check-asan demo run install bench clean

all: build

deps:
	@build-aux/install-deps.sh

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) -Dwerror=true

build: deps $(BUILDDIR)/build.ninja
	meson compile -C $(BUILDDIR)

# Every test: unit, integration (real Dovecot), keyring, UI under Xvfb, validation; then the
# unit, integration and UI suites again under AddressSanitizer and UBSan. Leak detection is
# off: GTK, fontconfig and WebKit keep caches for the life of the process that LeakSanitizer
# reports by the hundred, with stacks too shallow to suppress them one by one.
check: build
	$(MESON_TEST) -C $(BUILDDIR)
	$(MAKE) check-asan

$(ASANDIR)/build.ninja:
	meson setup $(ASANDIR) -Dwerror=true -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dbuildtype=debug

check-asan: deps $(ASANDIR)/build.ninja
	meson compile -C $(ASANDIR)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MESON_TEST) -C $(ASANDIR) --suite unit --suite integration --suite ui

# A throwaway Dovecot with a sample mailbox and Tidings opened on it.
demo: build
	build-aux/demo.sh $(BUILDDIR)

# Tidings on your real profile.
run: build
	GSETTINGS_SCHEMA_DIR=$(BUILDDIR)/data $(BUILDDIR)/src/app/tidings

install: build
	meson install -C $(BUILDDIR)

bench: build
	@build-aux/install-deps.sh --bench
	bench/run.sh $(BUILDDIR)

clean:
	rm -rf $(BUILDDIR) $(ASANDIR)
