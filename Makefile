# SPDX-License-Identifier: GPL-2.0
#
# twheel: build the module, library, tools and tests; run the tests in qemu.
#
#   make                 build everything against KDIR
#   make check           install what is missing, build, run every test
#   make demo            boot the VM and show twheel at work
#   make bench           twheel against timerfd and io_uring timeouts, in the VM
#   make bench-quic      quic-server's timers on twheel, timerfd and a heap
#   make vm-shell        an interactive shell in the test VM
#   make style           checkpatch, sparse and kernel-doc over the module
#   make install         library, headers, man pages, tools (PREFIX, DESTDIR)
#   make modules_install the module (DESTDIR)
#   make dkms-source     the module's source for DKMS (DKMS_SRC_DIR)
#   make deb             Debian packages: twheel-dkms, libtwheel0,
#                        libtwheel-dev, twheel-tools (in build/deb)
#
# The module is never loaded into the kernel of the machine that builds it:
# every kernel-side test runs inside qemu (scripts/vm/run-vm); the targets
# that boot the VM are in scripts/vm.mk.

KDIR ?= $(shell scripts/find-kdir)
BUILD := $(CURDIR)/build
RESULTS := $(BUILD)/results
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))
KSRC := $(BUILD)/ksrc
KSFT_DIR := $(KSRC)/tools/testing/selftests
PREFIX ?= /usr/local
DESTDIR ?=
# The module's version, as DKMS and the packages know it.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)

CC ?= gcc

all: module lib selftests tools examples

deps:
	@scripts/install-deps

module:
	@scripts/find-kdir -v > /dev/null
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Files the build takes from Debian's linux-source tarball, not copied into
# this tree: the kselftest harness, lib.mk and its runner (which the
# selftests' Makefile includes), and the style checkers. The stamp's name
# follows the list, so a changed list extracts them again.
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	      tools/testing/selftests/kselftest.h \
	      tools/testing/selftests/lib.mk \
	      tools/testing/selftests/kselftest/runner.sh \
	      tools/testing/selftests/kselftest/prefix.pl \
	      scripts/checkpatch.pl scripts/spelling.txt \
	      scripts/const_structs.checkpatch
KSRC_STAMP := $(KSRC)/.stamp-$(shell echo $(KSRC_FILES) | cksum | cut -d' ' -f1)

ksrc: $(KSRC_STAMP)
$(KSRC_STAMP):
	@test -n "$(KSRC_TAR)" || \
		{ echo "twheel: linux-source-6.1 is not installed (make deps)"; exit 1; }
	rm -rf $(KSRC) && mkdir -p $(KSRC)
	tar -xJf $(KSRC_TAR) -C $(KSRC) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(KSRC_FILES))
	touch $@

selftests: ksrc
	$(MAKE) -C selftests/twheel KSFT_DIR=$(KSFT_DIR) \
		OUTPUT=$(BUILD)/selftests/twheel
	$(MAKE) -C selftests/twheel KSFT_DIR=$(KSFT_DIR) M32=1 \
		OUTPUT=$(BUILD)/selftests/twheel32

lib:
	$(MAKE) -C userlib OUTPUT=$(BUILD)/userlib PREFIX=$(PREFIX)

lib-tests: lib ksrc
	$(MAKE) -C userlib tests OUTPUT=$(BUILD)/userlib KSFT_DIR=$(KSFT_DIR)

# The library's native checks (TAP): its man pages render and cover every
# exported symbol; an install into a scratch DESTDIR builds and links.
man-check:
	@$(MAKE) -s -C userlib check-man

lib-check:
	@$(MAKE) -s -C userlib check-install OUTPUT=$(BUILD)/userlib

tools: twdemo twstat twbench

twdemo: lib
	$(MAKE) -C tools/twdemo BUILD=$(BUILD)/tools LIBTWHEEL=$(BUILD)/userlib

examples: lib
	$(MAKE) -C examples OUTPUT=$(BUILD)/examples LIBTWHEEL=$(BUILD)/userlib

twstat:
	$(MAKE) -C tools/twstat BUILD=$(BUILD)/twstat

twstat-check: twstat ksrc
	$(MAKE) -s -C tools/twstat check BUILD=$(BUILD)/twstat KSFT_DIR=$(KSFT_DIR)

twbench:
	$(MAKE) -C tools/twbench BUILD=$(BUILD)/tools

# --- tests ----------------------------------------------------------------

# vm-payload, vm-check, debug-kernel, debug-module, vm-check-debug,
# kcsan-kernel, kcsan-module, vm-check-kcsan, demo, vm-shell, bench,
# bench-run.
include scripts/vm.mk
include scripts/uml.mk

check: deps
	@$(MAKE) --no-print-directory check-run

# Each step says when it starts, which of how many it is and how long the
# run has taken so far; the long ones (the package builds, the VMs, the
# test kernels' first builds) add their own progress lines.
CHECK_STEPS := style twstat man lib wheel-native deb dkms vm-stock vm-debug vm-kcsan

check-run:
	@start=$$(date +%s); n=0; rm -rf $(RESULTS); mkdir -p $(RESULTS); \
	step() { \
		part=$$1; shift; n=$$((n + 1)); t=$$(( $$(date +%s) - start )); \
		echo "make check: step $$n of $(words $(CHECK_STEPS)): $$part" \
			"($$((t / 60))m$$(printf %02d $$((t % 60)))s so far)"; \
		scripts/run-tap $(RESULTS)/$$part.tap $(MAKE) --no-print-directory "$$@"; \
	}; \
	step style style; \
	step twstat twstat-check; \
	step man man-check; \
	step lib lib-check; \
	step wheel-native -C tests/wheel check BUILD=$(BUILD)/wheel; \
	step deb deb-check; \
	step dkms dkms-check; \
	step vm-stock vm-check; \
	stock=$$(date +%s); \
	step vm-debug vm-check-debug; \
	kcsan=$$(date +%s); \
	step vm-kcsan vm-check-kcsan; \
	echo; \
	echo "make check: wall time $$(( $$(date +%s) - start ))s" \
		"(debug kernel phase $$(( kcsan - stock ))s," \
		"KCSAN kernel phase $$(( $$(date +%s) - kcsan ))s)"; \
	scripts/tap-summary $(RESULTS)/*.tap

# The wheel, built natively: differential fuzzing for FUZZ_SECONDS, and
# the benchmark against a heap.
fuzz:
	$(MAKE) -C tests/wheel fuzz BUILD=$(BUILD)/wheel

bench-wheel:
	$(MAKE) -C tests/wheel bench BUILD=$(BUILD)/wheel

# The SIMD batch computations, scalar against AVX2 (Documentation/simd.rst).
bench-simd:
	$(MAKE) -C tests/wheel bench-simd BUILD=$(BUILD)/wheel

# The connection table's lookups, one by one against bulk (Documentation/device.rst).
bench-table:
	$(MAKE) -C tests/wheel bench-table BUILD=$(BUILD)/wheel

# --- style ----------------------------------------------------------------

style: ksrc
	scripts/style-check $(KDIR) $(KSRC)

# --- install --------------------------------------------------------------

install: lib tools
	$(MAKE) -C userlib install OUTPUT=$(BUILD)/userlib PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR)
	$(MAKE) -C tools/twdemo install BUILD=$(BUILD)/tools \
		LIBTWHEEL=$(BUILD)/userlib PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	$(MAKE) -C tools/twstat install BUILD=$(BUILD)/twstat PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR)

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR))

# --- DKMS and Debian packages ---------------------------------------------

# What DKMS builds the module from (dkms.conf): the kbuild files, the
# module's sources and the uapi header, and nothing built.
DKMS_SRC_DIR ?= $(DESTDIR)/usr/src/twheel-$(VERSION)
DKMS_FILES := dkms.conf Kbuild kmod/Kbuild \
	$(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) uapi/linux/twheel.h

dkms-source:
	@test -n "$(VERSION)" || { echo "twheel: no PACKAGE_VERSION in dkms.conf"; exit 1; }
	for f in $(DKMS_FILES); do \
		install -D -m 0644 $$f $(DKMS_SRC_DIR)/$$f || exit 1; \
	done

# DKMS from a clean copy against the installed Debian headers (TAP), then
# the module it built loaded in the VM with a few selftests
# (scripts/vm.mk: vm-check-dkms).
DKMS_OUT := $(BUILD)/dkms

dkms-check:
	@scripts/dkms-check $(KREL) $(KDIR) $(DKMS_OUT) && \
	$(MAKE) --no-print-directory vm-check-dkms

# dpkg-buildpackage in a clean copy of the tree; the packages land in
# $(DEB_OUT).
DEB_OUT := $(BUILD)/deb

deb:
	scripts/build-deb $(DEB_OUT)

# The packages built, checked by lintian, unpacked into a scratch root and
# built against (TAP).
deb-check:
	@scripts/deb-check $(DEB_OUT)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)

.PHONY: all deps module ksrc lib lib-tests man-check lib-check selftests tools twdemo examples twstat twstat-check twbench check \
	check-run fuzz bench-wheel bench-simd bench-table style install modules_install \
	dkms-source dkms-check deb deb-check clean
