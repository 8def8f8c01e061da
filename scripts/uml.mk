# SPDX-License-Identifier: GPL-2.0
#
# The User-Mode Linux targets of twheel's Makefile, which includes this
# file. A UML kernel is an ordinary program on the build host: kernel code
# runs in it at the host's speed, and modules are loaded inside it, never
# into the host's kernel.
#
#   make uml-kernel      build (once) or find the cached UML kernel
#   make uml-module      the module and its KUnit suites for it
#   make kunit           the module's KUnit suites in the UML kernel, as TAP
#
# Heavy commands run under UML_NICE (default "nice -n 19"), for machines
# shared with other work; set UML_NICE= to run them as they are.
#
# It uses the top Makefile's BUILD.

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

.PHONY: uml-kernel uml-module kunit
