# SPDX-License-Identifier: GPL-2.0
#
# twheel: build the module, library, tools and tests; run the tests in qemu.
#
#   make                 build everything against KDIR
#   make check           install what is missing, build, run every test
#   make demo            boot the VM and show twheel at work
#   make bench           twheel against timerfd and io_uring timeouts, in the VM
#   make vm-shell        an interactive shell in the test VM
#   make style           checkpatch, sparse and kernel-doc over the module
#   make install         library, headers, man pages, tools (PREFIX, DESTDIR)
#   make modules_install the module (DESTDIR)
#
# The module is never loaded into the kernel of the machine that builds it:
# every kernel-side test runs inside qemu (tools/vm/run-vm).

KDIR ?= $(shell tools/find-kdir)
BUILD := $(CURDIR)/build
RESULTS := $(BUILD)/results
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))
KSRC := $(BUILD)/ksrc
KSFT_DIR := $(KSRC)/tools/testing/selftests
PREFIX ?= /usr/local
DESTDIR ?=

# The VM boots the kernel the module was built for.
KREL = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
VM_KERNEL ?= /boot/vmlinuz-$(KREL)

CC ?= gcc

all: module lib selftests tools examples

deps:
	@tools/install-deps

module:
	@tools/find-kdir -v > /dev/null
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Files the build takes from Debian's linux-source tarball, not copied into
# this tree: the kselftest harness and the style checkers.
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	      tools/testing/selftests/kselftest.h \
	      scripts/checkpatch.pl scripts/spelling.txt \
	      scripts/const_structs.checkpatch

ksrc: $(KSRC)/.stamp
$(KSRC)/.stamp:
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

# --- tests ----------------------------------------------------------------

VM_STOCK := $(BUILD)/vm/stock

# Everything the VM needs: the module, the selftests, the tools, the examples.
vm-payload: module selftests lib-tests tools examples

# What every VM gets besides the modules and the plan.
VM_PAYLOADS := --payload $(BUILD)/selftests/twheel:/selftests/twheel \
	       --payload $(BUILD)/selftests/twheel32:/selftests/twheel32 \
	       --payload $(BUILD)/userlib/test:/tests/userlib \
	       --payload $(BUILD)/tools:/tools \
	       --payload $(BUILD)/twstat:/tools/twstat \
	       --payload $(BUILD)/examples:/examples

# A build failure before the VM boots leaves no results: check-run wraps
# these in run-tap, which turns that into a failure.
vm-check: vm-payload
	tools/vm/run-vm --name stock --out $(VM_STOCK) \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		$(VM_PAYLOADS) \
		--plan tools/vm/plans/check.sh \
		--timeout 900

# The debug kernel (KUnit, lockdep, KASAN, UBSAN, kmemleak, DEBUG_OBJECTS),
# built once from Debian's linux-source and cached outside the tree; the
# module and its KUnit tests are built against it in a copy of the sources
# so that the stock build in kmod/ stays as it is.
DEBUG_ENV := $(BUILD)/debug/kernel.env
DEBUG_SRC := $(BUILD)/debug/src
VM_DEBUG := $(BUILD)/vm/debug

debug-kernel:
	@mkdir -p $(dir $(DEBUG_ENV))
	@start=$$(date +%s); \
	tools/vm/build-debug-kernel > $(DEBUG_ENV).tmp && \
	mv $(DEBUG_ENV).tmp $(DEBUG_ENV) && \
	echo "debug kernel ready in $$(( $$(date +%s) - start ))s: $$(cat $(DEBUG_ENV) | tr '\n' ' ')"

debug-module: debug-kernel
	rm -rf $(DEBUG_SRC) && mkdir -p $(DEBUG_SRC)/kmod $(DEBUG_SRC)/uapi
	cp Kbuild $(DEBUG_SRC)/
	cp kmod/Kbuild kmod/*.c kmod/*.h $(DEBUG_SRC)/kmod/
	rm -f $(DEBUG_SRC)/kmod/*.mod.c
	cp -r uapi/linux $(DEBUG_SRC)/uapi/
	. $(DEBUG_ENV) && $(MAKE) -C $$KDIR M=$(DEBUG_SRC) modules

vm-check-debug: debug-module selftests lib-tests tools examples
	. $(DEBUG_ENV) && tools/vm/run-vm --name debug --out $(VM_DEBUG) \
		--kernel $$KERNEL \
		--module $(DEBUG_SRC)/kmod/twheel.ko \
		--module $(DEBUG_SRC)/kmod/twheel_wheel_test.ko \
		--module $(DEBUG_SRC)/kmod/twheel_table_test.ko \
		--module $(DEBUG_SRC)/kmod/twheel_simd_kunit.ko \
		$(VM_PAYLOADS) \
		--plan tools/vm/plans/check-debug.sh \
		--post-plan tools/vm/plans/leak-scan.sh \
		--timeout 1800

check: deps
	@$(MAKE) --no-print-directory check-run

check-run:
	@start=$$(date +%s); rm -rf $(RESULTS); mkdir -p $(RESULTS); \
	tools/run-tap $(RESULTS)/style.tap $(MAKE) --no-print-directory style; \
	tools/run-tap $(RESULTS)/twstat.tap $(MAKE) --no-print-directory twstat-check; \
	tools/run-tap $(RESULTS)/man.tap $(MAKE) --no-print-directory man-check; \
	tools/run-tap $(RESULTS)/lib.tap $(MAKE) --no-print-directory lib-check; \
	tools/run-tap $(RESULTS)/wheel-native.tap \
		$(MAKE) --no-print-directory -C tests/wheel check BUILD=$(BUILD)/wheel; \
	tools/run-tap $(RESULTS)/vm-stock.tap \
		$(MAKE) --no-print-directory vm-check; \
	stock=$$(date +%s); \
	tools/run-tap $(RESULTS)/vm-debug.tap \
		$(MAKE) --no-print-directory vm-check-debug; \
	echo; \
	echo "make check: wall time $$(( $$(date +%s) - start ))s" \
		"(debug kernel phase $$(( $$(date +%s) - stock ))s)"; \
	tools/tap-summary $(RESULTS)/*.tap

# The demo VM's name; its console log and output go to build/vm/$(DEMO_NAME).
DEMO_NAME ?= demo

demo: deps
	@$(MAKE) --no-print-directory vm-payload
	tools/vm/run-vm --name $(DEMO_NAME) --out $(BUILD)/vm/$(DEMO_NAME) \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		$(VM_PAYLOADS) \
		--plan tools/vm/plans/demo.sh --timeout 600

vm-shell: vm-payload
	tools/vm/run-vm --name shell --out $(BUILD)/vm/shell --shell \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		$(VM_PAYLOADS)

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

# twheel against timerfd and io_uring timeouts in one VM run; tables, CSV
# and plots land in a new folder under build/bench, named at the end
# (Documentation/bench.rst). The defaults take 14 minutes under TCG on an
# idle 2-core host (20 on a busy one), three quarters of it at 1 000 000.
BENCH_SIZES ?= 1000,10000,100000,1000000
BENCH_RUNS ?= 5
# ops (arm, re-arm, cancel, memory), expiry, mixed (a daemon's traffic, CPU
# per operation), or some of them; and the guest's vCPUs
BENCH_WORKLOADS ?= ops,expiry,mixed
BENCH_SMP ?= 2
# More for the guest kernel's command line, e.g. init_on_alloc=0.
BENCH_APPEND ?=

twbench:
	$(MAKE) -C tools/twbench BUILD=$(BUILD)/tools

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: module twbench
	@out=$(BUILD)/bench/$$(date -u +%Y%m%d-%H%M%S); start=$$(date +%s); \
	tools/vm/run-vm --name bench --out $(BUILD)/vm/bench --mem 4096 \
		--smp $(BENCH_SMP) \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		--payload $(BUILD)/tools:/tools \
		--plan tools/vm/plans/bench.sh --collect $$out \
		--append "TWBENCH_SIZES=$(BENCH_SIZES) TWBENCH_RUNS=$(BENCH_RUNS) TWBENCH_WORKLOADS=$(BENCH_WORKLOADS) $(BENCH_APPEND)" \
		--timeout 3600; rc=$$?; \
	cp $(BUILD)/vm/bench/results.tap $$out/ 2>/dev/null; \
	test ! -e $$out/tables.txt || cat $$out/tables.txt; \
	tools/twbench/plot $$out || rc=1; \
	echo "make bench: wall time $$(( $$(date +%s) - start ))s, status $$rc"; \
	echo "make bench: results in $$out"; \
	exit $$rc

# --- style ----------------------------------------------------------------

style: ksrc
	tools/style-check $(KDIR) $(KSRC)

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

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)

.PHONY: all deps module ksrc lib lib-tests man-check lib-check selftests tools twdemo examples twstat twstat-check vm-payload vm-check check \
	check-run debug-kernel debug-module vm-check-debug fuzz bench-wheel bench-simd bench-table twbench bench bench-run demo vm-shell style install modules_install clean
