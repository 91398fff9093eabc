# SPDX-License-Identifier: BSD-2-Clause
# gil-prof — build, demo and tests. See README.md.
#
#   make          build ./gil-prof (products under .output/)
#   make demo     install dependencies, build, profile a bundled example
#   make test     install dependencies, build, run every test layer
#   make layouts  regenerate the CPython layout rows from installed headers
#   make bench    gil-prof against py-spy and Austin (bench/results/latest.md)
#   make bench-tachyon   ... and CPython 3.15's own sampler (bench/results/tachyon/)
#   make bench-versions  BPF cost per sample and line tables per interpreter
#   make dist     the self-contained binary .output/dist/gil-prof (glibc only)
#   make wheel    the pip wheel .output/wheel/gil_prof-*.whl
#   make install  binary, man page, bash completion (PREFIX, DESTDIR)
#   make distros  the binary and the wheel on other Debian releases (long form)
#   make kernels  every mode on Debian's kernels booted in qemu (long form)

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

# Debian packages, by what needs them. `make deps` (and `make demo`) installs
# only what building and running gil-prof needs; the tests, the benchmarks
# and the packaging targets install theirs (deps-test, deps-bench, deps-dist).
DEB_BUILD_PACKAGES := make gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev \
	libjson-c-dev libncurses-dev uthash-dev protobuf-c-compiler libprotobuf-c-dev xxd libmicrohttpd-dev
# The demo's example target is a Python program.
DEB_RUN_PACKAGES := python3
DEB_TEST_PACKAGES := libcmocka-dev python3-pytest python3.11-dev procps util-linux \
	libclang-rt-14-dev valgrind golang-go chromium python3-jsonschema debootstrap man-db \
	qemu-system-x86 gpgv debian-archive-keyring \
	libcap2-bin tmux \
	prometheus
DEB_BENCH_PACKAGES := wrk gnuplot-nox python3-venv debootstrap debian-archive-keyring util-linux
# make dist (sysroot from Debian's archive, glibc check), make wheel, make man.
DEB_DIST_PACKAGES := binutils debian-archive-keyring python3 python3-venv dpkg-dev xz-utils

CFLAGS ?= -g -O2
WARNINGS := -Wall -Wextra -Werror
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -DGP_VERSION='"$(VERSION)"' \
	-I$(OUTPUT) -I$(OUTPUT)/gen -Ibpf
# The libraries gil-prof calls: linked dynamically here, statically by
# `make dist` (DIST_STATIC_LIBS). Add a library here and its -dev package to
# DEB_BUILD_PACKAGES and DIST_LIB_PACKAGES.
GP_LIBS := bpf dw elf z protobuf-c json-c microhttpd ncursesw tinfo
LDLIBS := $(addprefix -l,$(GP_LIBS)) -lm
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

.PHONY: all deps deps-test deps-bench deps-dist demo test unit functional tools layouts clean san \
	unit-san functional-san valgrind fuzz fuzz-build soak bench bench-smoke bench-tachyon bench-versions
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

# $(call apt_install,PACKAGES): install those not installed yet.
define apt_install
	@missing=$$(for p in $(sort $(1)); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEB_BUILD_PACKAGES) $(DEB_RUN_PACKAGES))

# Everything `make test` runs: its own tools, the benchmark smoke test and
# the packaging tests (dist, wheel, other distributions).
deps-test:
	$(call apt_install,$(DEB_BUILD_PACKAGES) $(DEB_RUN_PACKAGES) $(DEB_TEST_PACKAGES) \
		$(DEB_BENCH_PACKAGES) $(DEB_DIST_PACKAGES))

deps-bench:
	$(call apt_install,$(DEB_BUILD_PACKAGES) $(DEB_RUN_PACKAGES) $(DEB_BENCH_PACKAGES))

deps-dist:
	$(call apt_install,$(DEB_BUILD_PACKAGES) $(DEB_DIST_PACKAGES))

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

# Every pyenv CPython 3.9+ with headers, and Debian sid's 3.14 and 3.15
# (release builds; in the root the tests run them in, tests/roots/sid.sh):
# one generated row each. The root's headers find their pyconfig.h under
# its /usr/include, searched after the host's (-idirafter).
PY_INCLUDES = $(wildcard $(PYENV_ROOT)/versions/3.*/include/python3.*)
SID_VERSIONS = 3.14 3.15

# $(call gen_rows,INCLUDE_DIR,VERSION,EXTRA_CFLAGS)
define gen_rows
	$(CC) -w -I$(1) -I$(1)/internal $(3) $(GEN_SRC) -o $(OUTPUT)/pylayout_gen && \
	$(OUTPUT)/pylayout_gen > sampler/target/layouts/py$(2).inc && \
	$(CC) -w -I$(1) -I$(1)/internal $(3) $(OBJGEN_SRC) -o $(OUTPUT)/pyobjlayout_gen && \
	$(OUTPUT)/pyobjlayout_gen > sampler/target/objlayouts/py$(2).inc && \
	echo "generated sampler/target/layouts/py$(2).inc sampler/target/objlayouts/py$(2).inc"
endef

layouts: | $(OUTPUT)
	@for inc in $(PY_INCLUDES); do \
		v=$$(basename $$inc | sed 's/^python//'); \
		case $$v in 3.[0-8]|3.[0-8]m) continue;; esac; \
		$(call gen_rows,$$inc,$$v) || exit 1; \
	done
	@root=$$(tests/roots/sid.sh) || exit 1; \
	for v in $(SID_VERSIONS); do \
		$(call gen_rows,$$root/usr/include/python$$v,$$v,-idirafter $$root/usr/include) || exit 1; \
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
	$(SUDO) env GIL_PROF=$(abspath $(BIN)) $(PYTHON) -m pytest -q --durations=20 tests/functional

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

# The sanitizer pass repeats the whole suite over the newest layout (3.15 in
# the sid root: the container path too), inside make test's budget; the
# older layouts' decoders run under the sanitizers in the unit tests (every
# version's rows) and the fuzzers. `make functional-san
# SAN_MATRIX=pyenv-3.9,sid-3.15,debian-3.11` is the long form (the oldest
# layout and Debian's stripped static build's ELF search as well).
SAN_MATRIX ?= sid-3.15

functional-san: san
	$(SAN_MAKE) tools
	$(SUDO) env $(SAN_ENV) GIL_PROF=$(abspath $(SAN_OUT)/gil-prof) GIL_PROF_MATRIX=$(SAN_MATRIX) \
		$(PYTHON) -m pytest -q --durations=10 tests/functional

# A short recording under valgrind memcheck: no invalid access, no leak.
valgrind: $(BIN)
	$(SUDO) env GIL_PROF=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests/integrity/test_valgrind.py

# A busy 50-thread target recorded for SOAK_SECONDS: gil-prof's memory levels
# off. CI runs 60 s; the documented long form is 30 minutes:
# `make soak SOAK_SECONDS=1800` (or tests/integrity/soak.py --seconds 1800).
SOAK_SECONDS ?= 60
# make test's short form: 45 s still reads the levels over 34 s, past the warm-up.
TEST_SOAK_SECONDS ?= 45

soak: $(BIN)
	$(SUDO) env GIL_PROF=$(abspath $(BIN)) SOAK_SECONDS=$(SOAK_SECONDS) \
		$(PYTHON) -m pytest -q -s tests/integrity/test_soak.py

# libFuzzer targets for every decoder of target-controlled data, each for
# FUZZ_SECONDS; make test runs them for TEST_FUZZ_SECONDS (its short form,
# kept so make test fits its budget); run longer locally:
# `make fuzz FUZZ_SECONDS=3600`.
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 8
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(OUTPUT)/fuzz/,$(FUZZ_NAMES))
FUZZ_SRCS := unwind/linetable.c unwind/pystr.c unwind/targetmem.c unwind/pycode.c \
	unwind/procmaps.c unwind/elfsyms.c sampler/target/pyversion.c sampler/target/pylayouts.c \
	sampler/account/profile.c sampler/record/symbolize.c unwind/pyobj.c \
	sampler/target/pyobjlayouts.c sampler/target/pythreads.c unwind/elfcache.c unwind/symtab.c \
	unwind/native.c unwind/merge.c unwind/kallsyms.c unwind/strpool.c \
	sampler/record/nativestack.c sampler/common/gp_log.c sampler/account/timeline.c \
	unwind/pyrepr.c unwind/pylocals.c sampler/account/blame.c sampler/record/stackmemo.c
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

# --- the self-contained binary (make dist) -----------------------------------

# .output/dist/gil-prof links every library statically but glibc, and binds
# the oldest glibc symbol versions its calls allow: this machine's gcc
# compiles and links it against a sysroot (packaging/mksysroot.sh, cached
# under /var/cache/gil-prof/sysroots) holding the C library of an old
# Debian release and the static libraries of DIST_LIB_SUITE, the versions
# the development build links dynamically. The build fails if a symbol
# needs a glibc newer than DIST_GLIBC_BASELINE or another library is linked
# dynamically (packaging/elfcheck.py).
DIST_OUT := $(OUTPUT)/dist
DIST_BIN := $(DIST_OUT)/gil-prof
DIST_GLIBC_SUITE := bullseye
DIST_GLIBC_BASELINE := 2.31
DIST_GLIBC_PACKAGES := libc6 libc6-dev
DIST_LIB_SUITE := bookworm
# The -dev packages of GP_LIBS and of what their archives need, and the
# headers the build includes besides (uthash, the kernel's UAPI).
DIST_LIB_PACKAGES := libbpf-dev libdw-dev libelf-dev zlib1g-dev libprotobuf-c-dev libjson-c-dev \
	libncurses-dev \
	liblzma-dev libbz2-dev uthash-dev linux-libc-dev
# libmicrohttpd is not among them: mksysroot.sh builds it from bookworm's
# source without HTTPS (the archive's needs GnuTLS, hence p11-kit's .a,
# which Debian does not ship).
# Archives in link order: gil-prof's libraries, then what libdw needs
# (bookworm's elfutils 0.188 reads xz and bzip2 compressed files; it was
# built without zstd).
DIST_STATIC_LIBS := $(GP_LIBS) lzma bz2
# glibc's own libraries stay dynamic.
DIST_SYSTEM_LIBS := -lpthread -ldl -lm
DIST_CFLAGS := -g -O2
DIST_SYSROOT = packaging/mksysroot.sh $(DIST_GLIBC_SUITE) "$(DIST_GLIBC_PACKAGES)" \
	$(DIST_LIB_SUITE) "$(DIST_LIB_PACKAGES)"
# gcc searches its own library directories before a --sysroot's: -B and -L
# put the sysroot's crt files and libc first.
dist_cc = $(CC) --sysroot=$(1) -B$(1)/usr/lib/x86_64-linux-gnu/ -L$(1)/lib/x86_64-linux-gnu \
	-L$(1)/usr/lib/x86_64-linux-gnu -static-libgcc
dist_make = $(MAKE) --no-print-directory OUTPUT=$(DIST_OUT) BIN=$(DIST_OUT)/gil-prof.debug \
	CC="$(call dist_cc,$(1))" \
	CFLAGS="$(DIST_CFLAGS) -isystem $(1)/static/usr/include -isystem $(1)/static/usr/include/x86_64-linux-gnu" \
	LDLIBS="$(patsubst %,$(1)/static/usr/lib/x86_64-linux-gnu/lib%.a,$(DIST_STATIC_LIBS)) $(DIST_SYSTEM_LIBS)"

.PHONY: dist FORCE
dist: $(DIST_BIN)

# Always through the sub-make (it knows the sources); the binary's time
# stamp changes only when its bytes do. A new sysroot rebuilds everything.
$(DIST_BIN): FORCE
	$(Q)root=$$($(DIST_SYSROOT)) && mkdir -p $(DIST_OUT) && \
	if ! cmp -s $$root/.gil-prof-sysroot $(DIST_OUT)/sysroot.stamp; then \
		rm -rf $(DIST_OUT)/obj $(DIST_OUT)/gil-prof.debug; \
		cp $$root/.gil-prof-sysroot $(DIST_OUT)/sysroot.stamp; \
		cp $$root/versions.txt $(DIST_OUT)/gil-prof.packages; \
	fi && \
	$(call dist_make,$$root) $(DIST_OUT)/gil-prof.debug
	$(Q)strip --strip-debug -o $@.tmp $(DIST_OUT)/gil-prof.debug && \
		if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo "  STRIP    $@"; fi
	$(Q)$(PYTHON) packaging/elfcheck.py --glibc-max $(DIST_GLIBC_BASELINE) $@

FORCE:

# --- man page and bash completion -------------------------------------------

# Generated from the binary's own help (`gil-prof --help`, `gil-prof COMMAND
# --help`, the values its options accept; packaging/helptext.py), so they
# follow every command and option it has; the man page's prose is in
# packaging/gil-prof.1.in, its exit codes come from exitcodes.h.
MAN_PAGE := $(OUTPUT)/gil-prof.1
BASH_COMPLETION := $(OUTPUT)/gil-prof.bash
# The binary `make install` copies: this build's, or the self-contained one
# (`make install INSTALL_BIN=.output/dist/gil-prof`, built if needed).
INSTALL_BIN ?= $(BIN)
DOCS_BIN ?= $(INSTALL_BIN)
# The target that makes a binary named by any path ($(CURDIR)/.output/...).
bin_target = $(if $(filter $(abspath $(1)),$(abspath $(DIST_BIN))),$(DIST_BIN),$(if \
	$(filter $(abspath $(1)),$(abspath $(BIN))),$(BIN),$(1)))
DOCS_DATE = $(shell git log -1 --format=%cs 2>/dev/null || date +%F)

$(MAN_PAGE): $(call bin_target,$(DOCS_BIN)) packaging/gen_manpage.py packaging/helptext.py packaging/gil-prof.1.in \
		sampler/common/exitcodes.h
	$(call msg,MAN,$@)
	$(Q)$(PYTHON) packaging/gen_manpage.py --binary $(abspath $(DOCS_BIN)) --version $(VERSION) \
		--date $(DOCS_DATE) -o $@

$(BASH_COMPLETION): $(call bin_target,$(DOCS_BIN)) packaging/gen_completion.py packaging/helptext.py
	$(call msg,GEN,$@)
	$(Q)$(PYTHON) packaging/gen_completion.py --binary $(abspath $(DOCS_BIN)) --version $(VERSION) -o $@

.PHONY: docs install uninstall
docs: $(MAN_PAGE) $(BASH_COMPLETION)

# --- install ----------------------------------------------------------------

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install

install: $(call bin_target,$(INSTALL_BIN)) $(MAN_PAGE) $(BASH_COMPLETION)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/gil-prof
	$(INSTALL) -m 0644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man1/gil-prof.1
	$(INSTALL) -m 0644 $(BASH_COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/gil-prof

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gil-prof $(DESTDIR)$(MANDIR)/man1/gil-prof.1 \
		$(DESTDIR)$(BASHCOMPDIR)/gil-prof

# --- the wheel (pip install gil-prof) -----------------------------------------

# A binary-only wheel in the style of py-spy's: the self-contained binary
# installed as a script (bin/gil-prof), the man page and the completion as
# data, no Python code. setuptools (packaging/wheel/) builds it through
# `build`, from pinned tools in a virtual environment of their own; the
# platform tag comes from the binary's newest glibc symbol version, and
# auditwheel must agree with it (packaging/check_wheel.py).
WHEEL_OUT := $(OUTPUT)/wheel
WHEEL_VENV := $(WHEEL_OUT)/venv
WHEEL_PIP ?= build==1.6.1 setuptools==84.2.1 auditwheel==6.8.2
WHEEL_SRC := $(WHEEL_OUT)/src
WHEEL_NAME = gil_prof-$(VERSION)-py3-none-$(shell $(PYTHON) packaging/elfcheck.py --manylinux-tag $(DIST_BIN)).whl

$(WHEEL_VENV)/installed: | $(OUTPUT)
	$(call msg,VENV,$(WHEEL_VENV): $(WHEEL_PIP))
	$(Q)rm -rf $(WHEEL_VENV) && $(PYTHON) -m venv $(WHEEL_VENV)
	$(Q)$(WHEEL_VENV)/bin/pip install -q --disable-pip-version-check $(WHEEL_PIP)
	$(Q)echo "$(WHEEL_PIP)" > $@

.PHONY: wheel
wheel: $(WHEEL_VENV)/installed
	$(Q)$(MAKE) --no-print-directory $(DIST_BIN) docs INSTALL_BIN=$(DIST_BIN)
	$(call msg,WHEEL,$(WHEEL_OUT))
	$(Q)rm -rf $(WHEEL_SRC) && mkdir -p $(WHEEL_SRC)/completion && \
		cp packaging/wheel/* $(WHEEL_SRC)/ && cp $(DIST_BIN) $(MAN_PAGE) $(WHEEL_SRC)/ && \
		cp $(BASH_COMPLETION) $(WHEEL_SRC)/completion/gil-prof && \
		rm -f $(WHEEL_OUT)/*.whl
	$(Q)cd $(WHEEL_SRC) && GIL_PROF_VERSION=$(VERSION) \
		GIL_PROF_PLATFORM_TAG=$$($(abspath $(PYTHON)) $(CURDIR)/packaging/elfcheck.py --manylinux-tag gil-prof) \
		$(abspath $(WHEEL_VENV))/bin/python -m build --wheel --no-isolation --outdir .. . \
		> ../build.log 2>&1 || { cat ../build.log; exit 1; }
	$(Q)$(WHEEL_VENV)/bin/python packaging/check_wheel.py --auditwheel $(WHEEL_VENV)/bin/auditwheel \
		$(WHEEL_OUT)/*.whl

# --- packaging tests ----------------------------------------------------------

# The self-contained binary's glibc baseline, make install/uninstall, the
# man page and completion against --help, the wheel in a fresh venv, and
# the binary and the wheel inside roots of other Debian releases
# (tests/packaging/). `make test` runs them with one other release
# (DISTROS_SHORT); `make distros` with every release, and builds gil-prof
# from a clean clone with `make demo` in a fresh Debian 12 root.
DISTROS_SHORT ?= bullseye
DISTROS ?= bullseye trixie sid
PACKAGING_ENV = GIL_PROF=$(abspath $(BIN)) GIL_PROF_DIST=$(abspath $(DIST_BIN)) \
	GIL_PROF_WHEEL=$(abspath $(WHEEL_OUT)/$(WHEEL_NAME)) GIL_PROF_VERSION=$(VERSION)

.PHONY: packaging distros distros-run
packaging: $(BIN) wheel
	$(SUDO) env $(PACKAGING_ENV) GIL_PROF_DISTROS="$(DISTROS_SHORT)" \
		$(PYTHON) -m pytest -q tests/packaging --ignore=tests/packaging/test_fresh_demo.py

# The wheel's name comes from the built binary, and make expands a whole
# recipe before running it: the run is a second make, after the build.
distros: deps-test
	$(MAKE) $(BIN) wheel
	$(MAKE) distros-run

distros-run:
	$(SUDO) env $(PACKAGING_ENV) GIL_PROF_DISTROS="$(DISTROS)" GIL_PROF_FRESH_DEMO=bookworm \
		$(PYTHON) -m pytest -q -s tests/packaging

# --- kernels ----------------------------------------------------------------

# Every mode on Debian's own kernel packages (tests/kernels/matrix.txt),
# each booted in qemu (KVM if it boots them, else TCG: about a minute per
# kernel) over a Debian 12 root packed as the initramfs, plus this
# machine's kernel (--host); one line per kernel and mode, a table, JSON
# lines in .output/kernels/results.jsonl. Fails when a result is not the
# matrix's expectation. Kernels and the root are cached under
# /var/cache/gil-prof/kernels. `make test` runs KERNELS_SHORT; `make
# kernels` the whole matrix (1-6 minutes per kernel). KERNELS_BIN:
# the binary booted (the self-contained one by default; KERNELS_BIN=./gil-prof
# for the development build), KERNELS_ONLY: some rows of the matrix.
KERNELS_BIN ?= $(DIST_BIN)
KERNELS_SHORT ?= 6.1
KERNELS_ONLY ?=
KERNELS_GUESTS = $(SUDO) $(PYTHON) tests/kernels/kernels.py --gil-prof $(abspath $(KERNELS_BIN))
KERNELS_RUN = $(KERNELS_GUESTS) --host

.PHONY: kernels kernels-short
kernels: deps-test
	$(MAKE) $(call bin_target,$(KERNELS_BIN))
	$(KERNELS_RUN) $(if $(KERNELS_ONLY),--only $(KERNELS_ONLY))

# Without the host row: the functional suite runs every mode on this kernel.
kernels-short: $(call bin_target,$(KERNELS_BIN))
	$(KERNELS_GUESTS) --only $(KERNELS_SHORT)

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
bench: deps-bench
	$(MAKE) $(BIN) $(BENCH_VENV)/installed
	$(SUDO) env $(BENCH_ENV) $(PYTHON) bench/run.py --tools $(BENCH_VENV)/bin --out bench/results

# One repetition of tiny workloads, one setting per profiler: proves the
# harness works end to end (bench/check_results.py), not the figures.
bench-smoke: $(BIN) $(BENCH_VENV)/installed
	$(SUDO) env BENCH_PYTHON="$(BENCH_PYTHON)" $(PYTHON) bench/run.py --smoke --tools $(BENCH_VENV)/bin --out $(OUTPUT)/bench/smoke
	$(PYTHON) bench/check_results.py $(OUTPUT)/bench/smoke
	$(SUDO) $(PYTHON) bench/run.py --smoke --python sid-3.15 --tools $(BENCH_VENV)/bin \
		--workloads $(TACHYON_SMOKE_WORKLOADS) --profilers $(TACHYON_SMOKE_PROFILERS) \
		--out $(OUTPUT)/bench/smoke-tachyon
	$(PYTHON) bench/check_results.py $(OUTPUT)/bench/smoke-tachyon

# Per interpreter (every one the functional tests run, sid's in the sid
# root): BPF ns per sample and the line-table check's counts, into
# bench/results/versions.{md,json}. About 2 minutes.
bench-versions: $(BIN) tools
	$(SUDO) $(PYTHON) bench/version_cost.py --out bench/results

# CPython 3.15's own sampler, Tachyon (python3.15 -m profiling.sampling),
# beside gil-prof and py-spy on Debian sid's 3.15 in the sid root (Austin
# 3.7 does not read 3.15): bench/results/tachyon/latest.{md,png,json},
# with the GIL view of both on the contention workload. About 7 minutes.
# Not the HTTP workload: it runs wrk, which the root does not have.
TACHYON_WORKLOADS ?= calls,contend,mixed,idle
TACHYON_PROFILERS ?= gilprof-cpu,gilprof-wall,tachyon-wall,tachyon-gil,pyspy,pyspy-gil-idle
TACHYON_REPS ?= 3
TACHYON_SMOKE_WORKLOADS := calls,contend
TACHYON_SMOKE_PROFILERS := gilprof-wall,tachyon-wall,tachyon-gil,pyspy
bench-tachyon: deps-bench
	$(MAKE) $(BIN) $(BENCH_VENV)/installed
	$(SUDO) env BENCH_REPS="$(or $(BENCH_REPS),$(TACHYON_REPS))" BENCH_RATES="$(BENCH_RATES)" \
		$(PYTHON) bench/run.py --python sid-3.15 --workloads $(TACHYON_WORKLOADS) --profilers $(TACHYON_PROFILERS) \
		--tools $(BENCH_VENV)/bin --out bench/results/tachyon

test: deps-test
	$(MAKE) $(BIN)
	$(MAKE) unit
	$(MAKE) functional
	$(MAKE) packaging
	$(MAKE) kernels-short
	$(MAKE) bench-smoke
	$(MAKE) unit-san
	$(MAKE) functional-san
	$(MAKE) valgrind
	$(MAKE) soak SOAK_SECONDS=$(TEST_SOAK_SECONDS)
	$(MAKE) -j2 fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

clean:
	rm -rf $(OUTPUT) $(SAN_OUT) gil-prof
