# SPDX-License-Identifier: BSD-2-Clause
# gil-prof — build, demo and tests. See README.md.
#
#   make          build ./gil-prof (products under .output/)
#   make demo     install dependencies, build, profile a bundled example
#   make test     install dependencies, build, run every test layer
#   make layouts  regenerate the CPython layout rows from installed headers
#   make bench    gil-prof against py-spy and Austin (bench/results/latest.md)

OUTPUT ?= .output
BIN ?= gil-prof
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= cc
ARCH := x86
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
PROTOC_C ?= protoc-c
XXD ?= xxd
PYTHON ?= /usr/bin/python3
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
VERSION := 0.1.0

# Terse build lines; `make V=1` shows the commands.
ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Debian packages the build, the demo and the tests need (installed by `make deps`).
DEB_PACKAGES := make gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev \
	libjson-c-dev uthash-dev libcmocka-dev pkg-config python3 python3-pytest python3.11-dev procps \
	util-linux libclang-rt-14-dev valgrind protobuf-c-compiler libprotobuf-c-dev xxd \
	golang-go chromium python3-jsonschema wrk gnuplot-nox python3-venv debootstrap

CFLAGS ?= -g -O2
WARNINGS := -Wall -Wextra -Werror
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -DGP_VERSION='"$(VERSION)"' \
	-I$(OUTPUT) -I$(OUTPUT)/gen -Ibpf
LDLIBS := -lbpf -ldw -lelf -lz -lm -lprotobuf-c -ljson-c
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARNINGS) -I$(OUTPUT) -Ibpf

GEN_SRC := sampler/target/pylayout_gen.c
OBJGEN_SRC := sampler/target/pyobjlayout_gen.c
# sampler/ is grouped by concern: cmd/ (front ends) over record/ (the one
# sampler) over target/ (the interpreter) and account/ (profiles); cli/ and
# common/ serve them all.
SAMPLER_DIRS := $(sort $(dir $(wildcard sampler/*/*.c sampler/*/*.h)))
SAMPLER_INC := $(patsubst %/,-I%,$(SAMPLER_DIRS))
SRCS := $(filter-out $(GEN_SRC) $(OBJGEN_SRC), $(wildcard sampler/*.c sampler/*/*.c)) $(wildcard unwind/*.c) \
	$(wildcard output/*.c)
# Generated at build time, never committed: C for profile.proto (protoc-c)
# and the flame graph's script as a C array.
GEN_HDRS := $(OUTPUT)/gen/profile.pb-c.h
GEN_OBJS := $(OUTPUT)/obj/gen/profile.pb-c.o $(OUTPUT)/obj/gen/flamegraph_js.o
OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(SRCS)) $(GEN_OBJS)
LIB_OBJS := $(filter-out $(OUTPUT)/obj/sampler/main.o,$(OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.PHONY: all deps demo test unit functional tools layouts clean san unit-san functional-san \
	valgrind fuzz fuzz-build soak bench bench-smoke
.DELETE_ON_ERROR:

all: $(BIN)

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/gilprof.bpf.o: bpf/gilprof.bpf.c $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/gilprof.skel.h: $(OUTPUT)/gilprof.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name gilprof_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/gen/profile.pb-c.c $(OUTPUT)/gen/profile.pb-c.h &: output/profile.proto
	@mkdir -p $(@D)
	$(call msg,PROTOC-C,$<)
	$(Q)$(PROTOC_C) --proto_path=output --c_out=$(OUTPUT)/gen $<

$(OUTPUT)/gen/flamegraph_js.c: output/flamegraph.js
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$(XXD) -i -n gp_flamegraph_js $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/obj/gen/%.o: $(OUTPUT)/gen/%.c $(GEN_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Everything in user space may include the skeleton and generated headers;
# generate them first.
$(OUTPUT)/obj/%.o: %.c $(OUTPUT)/gilprof.skel.h $(GEN_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BIN): $(OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

-include $(OBJS:.o=.d)

# --- dependencies -----------------------------------------------------------

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; \
	fi

# --- demo -------------------------------------------------------------------

DEMO_OUT := $(OUTPUT)/demo/profile.folded
DEMO_SVG := $(OUTPUT)/demo/profile.svg

demo: deps
	$(MAKE) gil-prof
	@mkdir -p $(OUTPUT)/demo
	$(SUDO) ./gil-prof record -d 5s -o $(DEMO_OUT) -o $(DEMO_SVG) -- $(PYTHON) tests/targets/demo_app.py 6
	@echo
	@echo "Hottest stacks (samples: thread ... caller > leaf):"
	@awk '{ n = $$NF; sub(/ [0-9]+$$/, ""); k = split($$0, f, ";"); c = (k > 1) ? k - 1 : 1; \
		printf "%6d  %s ... %s > %s\n", n, f[1], f[c], f[k] }' $(DEMO_OUT) \
		| sort -rn | head -8
	@echo
	@echo "Profile written to $(abspath $(DEMO_OUT))"
	@echo "Flame graph (open in a browser): $(abspath $(DEMO_SVG))"

# --- layouts ----------------------------------------------------------------

# Every pyenv CPython 3.9+ with headers: one generated row each.
PY_INCLUDES = $(wildcard $(PYENV_ROOT)/versions/3.*/include/python3.*)

layouts:
	@for inc in $(PY_INCLUDES); do \
		v=$$(basename $$inc | sed 's/^python//'); \
		case $$v in 3.[0-8]|3.[0-8]m) continue;; esac; \
		$(CC) -w -I$$inc -I$$inc/internal $(GEN_SRC) -o $(OUTPUT)/pylayout_gen || exit 1; \
		$(OUTPUT)/pylayout_gen > sampler/target/layouts/py$$v.inc || exit 1; \
		$(CC) -w -I$$inc -I$$inc/internal $(OBJGEN_SRC) -o $(OUTPUT)/pyobjlayout_gen || exit 1; \
		$(OUTPUT)/pyobjlayout_gen > sampler/target/objlayouts/py$$v.inc || exit 1; \
		echo "generated sampler/target/layouts/py$$v.inc sampler/target/objlayouts/py$$v.inc"; \
	done

# --- tests ------------------------------------------------------------------

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Iunwind $(SAMPLER_INC) -Ioutput $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

# Test tools the functional tests run (built from tests/tools/*.c; a tool
# with a BPF part, NAME.bpf.c, has its own rules below).
TOOL_BINS := $(patsubst tests/tools/%.c,$(OUTPUT)/tests/%,\
	$(filter-out %.bpf.c,$(wildcard tests/tools/*.c)))

$(OUTPUT)/tests/%: tests/tools/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TOOL-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Iunwind $(SAMPLER_INC) $< $(LIB_OBJS) $(LDLIBS) -o $@

tools: $(TOOL_BINS)

$(OUTPUT)/tests/write_synthetic: tests/tools/synthetic_profile.h

# The tests' exact GIL tracer (uprobes on take_gil/drop_gil): BPF + skeleton.
$(OUTPUT)/tests/gilwait.bpf.o: tests/tools/gilwait.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/tests/gilwait.skel.h: $(OUTPUT)/tests/gilwait.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name gilwait_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/tests/gilwait: tests/tools/gilwait.c $(OUTPUT)/tests/gilwait.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(OUTPUT)/tests $< $(LDLIBS) -o $@

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t > $$t.log 2>&1 || { cat $$t.log; echo "FAILED: $$t"; exit 1; }; \
		echo "  PASS     $$t ($$(grep -c '^\[       OK' $$t.log) tests)"; done

functional: $(BIN) $(TOOL_BINS)
	$(SUDO) env GIL_PROF=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests/functional

# --- integrity: sanitizers, valgrind, fuzzing --------------------------------

# User space under AddressSanitizer + UndefinedBehaviorSanitizer, in its own
# build directory; any report makes the run fail.
SAN_OUT := .output-san
SAN_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
SAN_ENV := ASAN_OPTIONS=exitcode=86:detect_leaks=1:abort_on_error=0 \
	LSAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SAN_MAKE = $(MAKE) OUTPUT=$(SAN_OUT) BIN=$(SAN_OUT)/gil-prof CFLAGS="$(SAN_CFLAGS)"

san:
	$(SAN_MAKE) $(SAN_OUT)/gil-prof

unit-san: san
	$(SAN_ENV) $(SAN_MAKE) unit

# The sanitizer pass repeats the whole suite over three interpreters: the
# oldest and newest layouts and Debian's stripped static build.
SAN_MATRIX ?= pyenv-3.9,pyenv-3.13,debian-3.11

functional-san: san
	$(SAN_MAKE) tools
	$(SUDO) env $(SAN_ENV) GIL_PROF=$(abspath $(SAN_OUT)/gil-prof) GIL_PROF_MATRIX=$(SAN_MATRIX) \
		$(PYTHON) -m pytest -q tests/functional

# A short recording under valgrind memcheck: no invalid access, no leak.
valgrind: $(BIN)
	$(SUDO) env GIL_PROF=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests/integrity/test_valgrind.py

# A busy 50-thread target recorded for SOAK_SECONDS: gil-prof's memory levels
# off. CI runs 60 s; the documented long form is 30 minutes:
# `make soak SOAK_SECONDS=1800` (or tests/integrity/soak.py --seconds 1800).
SOAK_SECONDS ?= 60

soak: $(BIN)
	$(SUDO) env GIL_PROF=$(abspath $(BIN)) SOAK_SECONDS=$(SOAK_SECONDS) \
		$(PYTHON) -m pytest -q -s tests/integrity/test_soak.py

# libFuzzer targets for every decoder of target-controlled data. CI runs each
# for FUZZ_SECONDS; run longer locally: `make fuzz FUZZ_SECONDS=3600`.
FUZZ_SECONDS ?= 30
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(OUTPUT)/fuzz/,$(FUZZ_NAMES))
FUZZ_SRCS := unwind/linetable.c unwind/pystr.c unwind/targetmem.c unwind/pycode.c \
	unwind/procmaps.c unwind/elfsyms.c sampler/target/pyversion.c sampler/target/pylayouts.c \
	sampler/account/profile.c sampler/record/symbolize.c unwind/pyobj.c \
	sampler/target/pyobjlayouts.c sampler/target/pythreads.c unwind/elfcache.c unwind/symtab.c \
	unwind/native.c unwind/merge.c unwind/kallsyms.c unwind/strpool.c \
	sampler/record/nativestack.c sampler/common/gp_log.c sampler/account/timeline.c
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Ibpf -Iunwind $(SAMPLER_INC) -Ioutput

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard unwind/*.h sampler/*/*.h bpf/*.h)
	@mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS) -ldw -lelf -o $@

fuzz-build: $(FUZZ_BINS)

# New inputs go to $(OUTPUT)/fuzz/corpus-NAME; the checked-in corpus seeds it.
# One rule per target, so `make -j2 fuzz` runs two at a time (libFuzzer uses
# one core each); each fuzzer's log is printed whole only if it fails.
FUZZ_RUNS := $(addprefix fuzz-run-,$(FUZZ_NAMES))
.PHONY: $(FUZZ_RUNS)
fuzz: $(FUZZ_RUNS)

$(FUZZ_RUNS): fuzz-run-%: $(OUTPUT)/fuzz/%
	@mkdir -p $(OUTPUT)/fuzz/corpus-$* tests/fuzz/corpus/$*
	@echo "  FUZZ     $* for $(FUZZ_SECONDS) s"
	@$(OUTPUT)/fuzz/$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix=$(OUTPUT)/fuzz/$*- \
		$(OUTPUT)/fuzz/corpus-$* tests/fuzz/corpus/$* \
		> $(OUTPUT)/fuzz/$*.log 2>&1 \
		|| { tail -40 $(OUTPUT)/fuzz/$*.log; echo "FAILED: $*"; exit 1; }
	@echo "  FUZZED   $*: $$(grep -E 'stat::number_of_executed_units' $(OUTPUT)/fuzz/$*.log)"

# --- benchmarks -------------------------------------------------------------

# py-spy and Austin come from PyPI into a virtual environment of their own
# (pinned: the results name the versions they compare against).
BENCH_VENV := $(OUTPUT)/bench/venv
BENCH_PIP ?= py-spy==0.4.3 austin-dist==3.7.0
# The knobs of bench/run.py, passed through sudo.
BENCH_ENV = $(foreach v,BENCH_REPS BENCH_RATES BENCH_WORKLOADS BENCH_PROFILERS BENCH_PYTHON,$(v)="$($(v))")

$(BENCH_VENV)/installed: | $(OUTPUT)
	$(call msg,VENV,$(BENCH_VENV): $(BENCH_PIP))
	$(Q)rm -rf $(BENCH_VENV) && $(PYTHON) -m venv $(BENCH_VENV)
	$(Q)$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check $(BENCH_PIP)
	$(Q)echo "$(BENCH_PIP)" > $@

# The full run (25-35 minutes; BENCH_REPS, BENCH_RATES, BENCH_WORKLOADS,
# BENCH_PROFILERS, BENCH_PYTHON change it): bench/results/latest.{md,png,json}.
bench: deps
	$(MAKE) $(BIN) $(BENCH_VENV)/installed
	$(SUDO) env $(BENCH_ENV) $(PYTHON) bench/run.py --tools $(BENCH_VENV)/bin --out bench/results

# One repetition of tiny workloads, one setting per profiler: proves the
# harness works end to end (bench/check_results.py), not the figures.
bench-smoke: $(BIN) $(BENCH_VENV)/installed
	$(SUDO) env BENCH_PYTHON="$(BENCH_PYTHON)" $(PYTHON) bench/run.py --smoke --tools $(BENCH_VENV)/bin --out $(OUTPUT)/bench/smoke
	$(PYTHON) bench/check_results.py $(OUTPUT)/bench/smoke

test: deps
	$(MAKE) $(BIN)
	$(MAKE) unit
	$(MAKE) functional
	$(MAKE) bench-smoke
	$(MAKE) unit-san
	$(MAKE) functional-san
	$(MAKE) valgrind
	$(MAKE) soak
	$(MAKE) -j2 fuzz

clean:
	rm -rf $(OUTPUT) $(SAN_OUT) gil-prof
