# SPDX-License-Identifier: GPL-2.0
#
# The User-Mode Linux targets of twheel's Makefile, which includes this
# file. A UML kernel is an ordinary program on the build host: kernel code
# runs in it at the host's speed, and modules are loaded inside it, never
# into the host's kernel.
#
#   make uml-kernel      build (once) or find the cached UML kernel
#   make uml-module      the module, its KUnit suites and twheel_kbench for it
#   make kunit           the module's KUnit suites in the UML kernel, as TAP
#   make bench-kernel    the module's costs timed inside the UML kernel,
#                        against timerfd natively (KBENCH_SIZES, KBENCH_RUNS,
#                        KBENCH_OPS, KBENCH_MEM, KBENCH_APPEND: the guest's
#                        command line, KBENCH_PARAMS: twheel_kbench's)
#
# Heavy commands run under UML_NICE (default "nice -n 19"), for machines
# shared with other work; set UML_NICE= to run them as they are.
#
# It uses the top Makefile's BUILD and its twbench target.

UML_NICE ?= nice -n 19
UML_ENV := $(BUILD)/uml/kernel.env
UML_SRC := $(BUILD)/uml/src
UML_KMOD := $(UML_SRC)/kmod

uml-kernel:
	@mkdir -p $(dir $(UML_ENV))
	@start=$$(date +%s); \
	TWHEEL_NICE="$(UML_NICE)" scripts/uml/build-uml-kernel > $(UML_ENV).tmp && \
	mv $(UML_ENV).tmp $(UML_ENV) && \
	echo "UML kernel ready in $$(( $$(date +%s) - start ))s: $$(cat $(UML_ENV) | tr '\n' ' ')"

# A copy of the sources, so that the stock build in kmod/ stays as it is;
# copied with their times, so that kbuild rebuilds only what changed.
uml-module: uml-kernel
	@mkdir -p $(UML_KMOD) $(UML_SRC)/uapi/linux
	@cp -p Kbuild $(UML_SRC)/
	@cp -p kmod/Kbuild kmod/*.c kmod/*.h $(UML_KMOD)/
	@rm -f $(UML_KMOD)/*.mod.c
	@for f in $(UML_KMOD)/*.[ch]; do \
		case $$f in *.mod.c) continue ;; esac; \
		[ -e kmod/$${f##*/} ] || rm -f "$$f" "$${f%.[ch]}.o"; \
	done
	@cp -p uapi/linux/*.h $(UML_SRC)/uapi/linux/
	. $(UML_ENV) && $(UML_NICE) $(MAKE) -C $$KDIR ARCH=um M=$(UML_SRC) modules

# The suites, one module each, loaded in one boot; twheel_simd's AVX2 case
# skips (no kernel_fpu_begin() in UML), its scalar case runs.
KUNIT_SUITES := twheel_wheel twheel_table twheel_ctx twheel_simd
KUNIT_MODULES := twheel_wheel_test twheel_table_test twheel_ctx_kunit \
		 twheel_simd_kunit

kunit: uml-module
	@rm -rf $(BUILD)/uml/kunit
	@. $(UML_ENV) && start=$$(date +%s%N) && \
	TWHEEL_NICE="$(UML_NICE)" scripts/uml/run-uml --kernel $$KERNEL \
		--out $(BUILD)/uml/kunit --mem 256M --timeout 300 \
		$(foreach m,$(KUNIT_MODULES),--module $(UML_KMOD)/$(m).ko); \
	rc=$$?; \
	scripts/uml/kunit-tap $(BUILD)/uml/kunit/console.log $(KUNIT_SUITES) || rc=1; \
	ms=$$(( ($$(date +%s%N) - start) / 1000000 )); \
	echo "# kunit: the UML guest ran $$((ms / 1000)).$$(printf %03d $$((ms % 1000))) s" \
		"(console: $(BUILD)/uml/kunit/console.log)"; \
	exit $$rc

KBENCH_SIZES ?= 1000,10000,100000,1000000
KBENCH_RUNS ?= 5
KBENCH_OPS ?= 4096
KBENCH_MEM ?= 2G
KBENCH_APPEND ?=
KBENCH_PARAMS ?=
KBENCH_TIMEOUT ?= 3600

$(BUILD)/uml/timerfd-cost: scripts/uml/timerfd-cost.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

# Natively on the build host: the crossing (twbench --probe, three times)
# and timerfd; then the module's costs inside the UML kernel; then the
# tables. Everything goes into a new folder under build/bench-kernel.
bench-kernel: uml-module twbench $(BUILD)/uml/timerfd-cost
	@set -e; dir=$(BUILD)/bench-kernel/$$(date +%Y%m%d-%H%M%S); \
	mkdir -p $$dir; . $(UML_ENV); \
	{ echo "date: $$(date -u +%Y-%m-%dT%H:%M:%SZ)"; \
	  echo "host: $$(uname -r), $$(nproc) CPUs," \
		"$$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"; \
	  echo "uml kernel: $$KERNEL"; \
	  echo "sizes: $(KBENCH_SIZES), runs: $(KBENCH_RUNS), ops: $(KBENCH_OPS)," \
		"mem: $(KBENCH_MEM), append: $(KBENCH_APPEND)," \
		"params: $(KBENCH_PARAMS)"; \
	  echo "nice: $(UML_NICE)"; \
	  echo "load before: $$(cut -d' ' -f1-3 /proc/loadavg)"; } > $$dir/meta.txt; \
	echo "bench-kernel: natively: twbench --probe, timerfd-cost"; \
	for i in 1 2 3; do \
		$(UML_NICE) $(BUILD)/tools/twbench --probe > $$dir/probe-$$i.txt; \
	done; \
	$(UML_NICE) $(BUILD)/uml/timerfd-cost $(KBENCH_SIZES) $(KBENCH_RUNS) \
		$(KBENCH_OPS) > $$dir/native.txt; \
	echo "bench-kernel: in the UML kernel: twheel_kbench"; \
	start=$$(date +%s); \
	TWHEEL_NICE="$(UML_NICE)" scripts/uml/run-uml --kernel $$KERNEL \
		--out $$dir --mem $(KBENCH_MEM) --timeout $(KBENCH_TIMEOUT) \
		--append "$(KBENCH_APPEND)" \
		--module "$(UML_KMOD)/twheel_kbench.ko:sizes=$(KBENCH_SIZES) runs=$(KBENCH_RUNS) ops=$(KBENCH_OPS) $(KBENCH_PARAMS)"; \
	rm -f $$dir/initramfs.cpio.gz; \
	{ echo "uml seconds: $$(( $$(date +%s) - start ))"; \
	  echo "load after: $$(cut -d' ' -f1-3 /proc/loadavg)"; } >> $$dir/meta.txt; \
	grep -q '^twheel-uml: insmod twheel_kbench.ko rc=0 ' $$dir/console.log || \
		{ echo "bench-kernel: twheel_kbench failed (see $$dir/console.log)"; exit 1; }; \
	scripts/uml/bench-kernel-report $$dir; \
	echo "bench-kernel: results in $$dir"

.PHONY: uml-kernel uml-module kunit bench-kernel
