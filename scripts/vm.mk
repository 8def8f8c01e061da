# SPDX-License-Identifier: GPL-2.0
#
# The VM targets of twheel's Makefile, which includes this file: what the
# test VM gets, the runs in Debian's kernel and in the debug kernel, the
# demo, an interactive shell and the benchmark. Every one of them boots
# qemu through scripts/vm/run-vm; none loads anything into the kernel of
# the machine that runs make.
#
#   make vm-payload      build everything the VM runs
#   make vm-check        the selftests and the rest in Debian's kernel
#   make vm-check-dkms   the module DKMS built (make dkms-check) in Debian's
#                        kernel, with a few selftests
#   make debug-kernel    build (once) or find the cached debug kernel
#   make debug-module    the module and its KUnit tests for that kernel
#   make vm-check-debug  everything again in the debug kernel, with KUnit
#   make demo            twdemo beside twstat (DEMO_NAME)
#   make vm-shell        an interactive shell in the test VM
#   make bench           twheel against timerfd and io_uring timeouts
#                        (BENCH_SIZES, BENCH_RUNS, BENCH_WORKLOADS,
#                        BENCH_SMP, BENCH_APPEND)
#   make bench-quic      quic-server on twheel, timerfd and a heap
#                        (QUIC_BENCH_ROUNDS, QUIC_BENCH_CLIENTS)
#
# It uses the top Makefile's BUILD, KDIR and its build targets (module,
# selftests, lib-tests, tools, twbench, examples, deps).

# The VM boots the kernel the module was built for.
KREL = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
VM_KERNEL ?= /boot/vmlinuz-$(KREL)

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

# The QUIC server's test (examples/quic-server/quic-test.sh) runs Debian's
# gtlsclient and the server, both dynamically linked: they and their
# shared libraries come from the host.
VM_DYNAMIC := --dynamic /usr/bin/gtlsclient \
	      --dynamic $(BUILD)/examples/quic-server/quic-server:/examples/quic-server/quic-server

# A build failure before the VM boots leaves no results: check-run wraps
# these in run-tap, which turns that into a failure.
vm-check: vm-payload
	scripts/vm/run-vm --name stock --out $(VM_STOCK) \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		$(VM_PAYLOADS) $(VM_DYNAMIC) \
		--plan scripts/vm/plans/check.sh \
		--timeout 900

# The module as `dkms build` made it from a clean copy of the source
# (scripts/dkms-check leaves it in $(DKMS_OUT)), smoke-tested.
vm-check-dkms: selftests
	scripts/vm/run-vm --name dkms --out $(BUILD)/vm/dkms \
		--kernel $(VM_KERNEL) --module $(DKMS_OUT)/twheel.ko \
		--payload $(BUILD)/selftests/twheel:/selftests/twheel \
		--plan scripts/vm/plans/dkms.sh \
		--timeout 600

# The debug kernel (KUnit, lockdep, KASAN, UBSAN, kmemleak, DEBUG_OBJECTS),
# built once from Debian's linux-source and cached outside the tree; the
# module and its KUnit tests are built against it in a copy of the sources
# so that the stock build in kmod/ stays as it is.
DEBUG_ENV := $(BUILD)/debug/kernel.env
DEBUG_SRC := $(BUILD)/debug/src
VM_DEBUG := $(BUILD)/vm/debug

# $(call twheel_kernel,ENV,WHAT,BUILD-DEBUG-KERNEL ARGS): the kernel of a
# debug variant, cached, its KDIR= and KERNEL= in ENV.
define twheel_kernel
	@mkdir -p $(dir $(1))
	@start=$$(date +%s); \
	scripts/vm/build-debug-kernel $(3) > $(1).tmp && \
	mv $(1).tmp $(1) && \
	echo "$(2) kernel ready in $$(( $$(date +%s) - start ))s: $$(cat $(1) | tr '\n' ' ')"
endef

# $(call twheel_module,ENV,SRC): the module and its KUnit suites, built
# against the kernel of ENV in the copy SRC of the sources.
define twheel_module
	rm -rf $(2) && mkdir -p $(2)/kmod $(2)/uapi
	cp Kbuild $(2)/
	cp kmod/Kbuild kmod/*.c kmod/*.h $(2)/kmod/
	rm -f $(2)/kmod/*.mod.c
	cp -r uapi/linux $(2)/uapi/
	. $(1) && $(MAKE) -C $$KDIR M=$(2) modules
endef

debug-kernel:
	$(call twheel_kernel,$(DEBUG_ENV),debug,)

debug-module: debug-kernel
	$(call twheel_module,$(DEBUG_ENV),$(DEBUG_SRC))

vm-check-debug: debug-module selftests lib-tests tools examples
	. $(DEBUG_ENV) && scripts/vm/run-vm --name debug --out $(VM_DEBUG) \
		--kernel $$KERNEL \
		--module $(DEBUG_SRC)/kmod/twheel.ko \
		--module $(DEBUG_SRC)/kmod/twheel_wheel_test.ko \
		--module $(DEBUG_SRC)/kmod/twheel_table_test.ko \
		--module $(DEBUG_SRC)/kmod/twheel_ctx_kunit.ko \
		--module $(DEBUG_SRC)/kmod/twheel_simd_kunit.ko \
		$(VM_PAYLOADS) \
		--plan scripts/vm/plans/check-debug.sh \
		--post-plan scripts/vm/plans/leak-scan.sh \
		--timeout 1800

# The race-detector kernel: debug.config with KCSAN in place of KASAN
# (they exclude each other), cached like the debug kernel. Its plan runs
# the file context's KUnit suite and the selftests that race the most:
# KCSAN slows every memory access, so not all of them.
KCSAN_ENV := $(BUILD)/kcsan/kernel.env
KCSAN_SRC := $(BUILD)/kcsan/src
VM_KCSAN := $(BUILD)/vm/kcsan

kcsan-kernel:
	$(call twheel_kernel,$(KCSAN_ENV),KCSAN,--overlay scripts/vm/kcsan.config)

kcsan-module: kcsan-kernel
	$(call twheel_module,$(KCSAN_ENV),$(KCSAN_SRC))

vm-check-kcsan: kcsan-module selftests
	. $(KCSAN_ENV) && scripts/vm/run-vm --name kcsan --out $(VM_KCSAN) \
		--kernel $$KERNEL \
		--module $(KCSAN_SRC)/kmod/twheel.ko \
		--module $(KCSAN_SRC)/kmod/twheel_ctx_kunit.ko \
		--payload $(BUILD)/selftests/twheel:/selftests/twheel \
		--plan scripts/vm/plans/check-kcsan.sh \
		--timeout 1800

# The demo VM's name; its console log and output go to build/vm/$(DEMO_NAME).
DEMO_NAME ?= demo

demo: deps
	@$(MAKE) --no-print-directory vm-payload
	scripts/vm/run-vm --name $(DEMO_NAME) --out $(BUILD)/vm/$(DEMO_NAME) \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		$(VM_PAYLOADS) \
		--plan scripts/vm/plans/demo.sh --timeout 600

vm-shell: vm-payload
	scripts/vm/run-vm --name shell --out $(BUILD)/vm/shell --shell \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		$(VM_PAYLOADS)

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

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: module twbench
	@out=$(BUILD)/bench/$$(date -u +%Y%m%d-%H%M%S); start=$$(date +%s); \
	scripts/vm/run-vm --name bench --out $(BUILD)/vm/bench --mem 4096 \
		--smp $(BENCH_SMP) \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		--payload $(BUILD)/tools:/tools \
		--plan scripts/vm/plans/bench.sh --collect $$out \
		--append "TWBENCH_SIZES=$(BENCH_SIZES) TWBENCH_RUNS=$(BENCH_RUNS) TWBENCH_WORKLOADS=$(BENCH_WORKLOADS) $(BENCH_APPEND)" \
		--timeout 3600; rc=$$?; \
	cp $(BUILD)/vm/bench/results.tap $$out/ 2>/dev/null; \
	test ! -e $$out/tables.txt || cat $$out/tables.txt; \
	tools/twbench/plot $$out || rc=1; \
	echo "make bench: wall time $$(( $$(date +%s) - start ))s, status $$rc"; \
	echo "make bench: results in $$out"; \
	exit $$rc

# quic-server on each timer back-end, the same gtlsclient workload in one
# VM run: CPU per request, timer system calls per 1 000 packets, lateness
# (Documentation/quic-server.rst). Tables and CSV land in a new folder
# under build/bench, named at the end.
QUIC_BENCH_ROUNDS ?= 3
QUIC_BENCH_CLIENTS ?= 20

bench-quic: deps
	@$(MAKE) --no-print-directory bench-quic-run

bench-quic-run: module examples
	@out=$(BUILD)/bench/quic-$$(date -u +%Y%m%d-%H%M%S); start=$$(date +%s); \
	scripts/vm/run-vm --name bench-quic --out $(BUILD)/vm/bench-quic \
		--kernel $(VM_KERNEL) --module kmod/twheel.ko \
		--payload $(BUILD)/examples/quic-server:/examples/quic-server \
		$(VM_DYNAMIC) \
		--plan scripts/vm/plans/bench-quic.sh --collect $$out \
		--append "QUIC_ROUNDS=$(QUIC_BENCH_ROUNDS) QUIC_CLIENTS=$(QUIC_BENCH_CLIENTS)" \
		--timeout 3600; rc=$$?; \
	cp $(BUILD)/vm/bench-quic/results.tap $$out/ 2>/dev/null; \
	test ! -e $$out/tables.txt || cat $$out/tables.txt; \
	echo "make bench-quic: wall time $$(( $$(date +%s) - start ))s, status $$rc"; \
	echo "make bench-quic: results in $$out"; \
	exit $$rc

.PHONY: bench-quic bench-quic-run

.PHONY: vm-payload vm-check vm-check-dkms debug-kernel debug-module vm-check-debug kcsan-kernel kcsan-module vm-check-kcsan demo vm-shell \
	bench bench-run
