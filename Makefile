# xgossip top-level Makefile.
#
#   make            build everything into build/
#   make deps       install the Debian packages the build and tests need
#   make test       unit tests, BPF tests and namespace cluster tests
#   make asan       the same tests on an ASan+UBSan build (build-asan/)
#   make demo       a 5-node demo cluster in network namespaces
#   make bench      benchmarks (see docs/BENCHMARKS.md)
#   make bench-accuracy  failure-detector accuracy, xgossip vs Serf (~40 min;
#                   ACCURACY_QUICK=1 for a ~5 min smoke run)
#   make bench-dissem    broadcast dissemination, xgossip vs Serf (~8 min; also
#                   part of make bench; DISSEM_N=16 DISSEM_MESSAGES=20 for a quick look)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool

BSSL_INC := /usr/include/android
BSSL_LIB := /usr/lib/x86_64-linux-gnu/android

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
# OPT is what a caller tunes (make asan sets it); the rest is not optional.
OPT      ?= -O2 -g
override CFLAGS += $(OPT) -std=gnu11 $(WARN) -D_GNU_SOURCE -fno-strict-aliasing $(SAN)
CPPFLAGS += -Iinclude -Iagent -I$(BSSL_INC) -I$(B)/gen $(shell pkg-config --cflags json-c 2>/dev/null)
LDFLAGS  += $(SAN)
SSL_LIBS := -L$(BSSL_LIB) -Wl,-rpath,$(BSSL_LIB) -lssl -lcrypto
LIBS     := $(shell pkg-config --libs json-c 2>/dev/null) -lbpf -lxdp -lelf -lz $(SSL_LIBS) -lm
# xgossipd runs on every node of a cluster, so its memory counts N times:
# the libraries only it uses are linked in statically (only the pages of
# code it runs become resident, with no relocation pages of their own) and
# libraries it does not call are not loaded at all (docs/BENCHMARKS.md).
DAEMON_LIBS := -Wl,--as-needed -Wl,-Bstatic -lxdp -lbpf -lelf -lz -ljson-c \
	       -Wl,-Bdynamic $(SSL_LIBS) -lm

# The protocol core: pure, no I/O; linked into everything.
CORE_SRC   := $(sort $(wildcard agent/core/*.c))
# Adapters shared by the daemon and tools: sockets, crypto, XDP loader, utils.
ADAPT_SRC  := $(sort $(wildcard agent/net/*.c agent/xdp/*.c agent/util/*.c))
DAEMON_SRC := $(sort $(wildcard agent/daemon/*.c))
CTL_SRC    := $(sort $(wildcard tools/xgossipctl/*.c))
PROBE_SRC  := $(sort $(wildcard tools/xgossip-probe/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
# Shared test helpers (fake clock, in-memory network, ...).
UNIT_LIB   := $(sort $(wildcard tests/unit/lib/*.c))
BPF_SRC    := $(sort $(wildcard bpf/*.bpf.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBXG      := $(B)/libxgossip.a
BPF_OBJ    := $(patsubst bpf/%.bpf.c,$(B)/bpf/%.bpf.o,$(BPF_SRC))
BPF_SKEL   := $(patsubst bpf/%.bpf.c,$(B)/gen/%.skel.h,$(BPF_SRC))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
BINS       := $(B)/xgossipd $(B)/xgossipctl $(if $(PROBE_SRC),$(B)/xgossip-probe)

.PHONY: all deps test unit nstest asan demo bench bench-accuracy bench-dissem install clean
# The BPF objects are products too (xdp_pass.bpf.o goes on veth peers);
# as mere steps towards the skeletons make would delete them.
all: $(BINS) $(UNIT_BIN) $(BPF_OBJ)

# --- BPF -------------------------------------------------------------------
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Iinclude -Ibpf \
	      -I/usr/include/$(shell uname -m)-linux-gnu

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/xgossip/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/gen/%.skel.h: $(B)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# --- userspace -------------------------------------------------------------
$(B)/obj/%.o: %.c | $(BPF_SKEL)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBXG): $(call obj,$(CORE_SRC) $(ADAPT_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/xgossipd: $(call obj,$(DAEMON_SRC)) $(LIBXG)
	$(CC) $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS)

$(B)/xgossipctl: $(call obj,$(CTL_SRC)) $(LIBXG)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/xgossip-probe: $(call obj,$(PROBE_SRC)) $(LIBXG)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests may exercise daemon code (control protocol, tags, state dir):
# the daemon's objects except main go into an archive so a test pulls in
# only what it uses.
LIBXGD := $(B)/libxgossipd.a
$(LIBXGD): $(call obj,$(filter-out agent/daemon/main.c,$(DAEMON_SRC)))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(call obj,$(UNIT_LIB)) $(LIBXGD) $(LIBXG)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# xgossipctl's tests (test_ctl*) also link its objects, all but main
# (ahead of the archives, whose code they use).
CTL_TESTS := $(filter $(B)/tests/test_ctl%,$(UNIT_BIN))
$(CTL_TESTS): $(B)/tests/%: $(B)/obj/tests/unit/%.o \
		$(call obj,$(filter-out tools/xgossipctl/main.c,$(CTL_SRC))) \
		$(call obj,$(UNIT_LIB)) $(LIBXGD) $(LIBXG)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# The embeddable agent (include/xgossip/xgossip.h, docs/EMBEDDING.md):
# agent/lib over the daemon's objects (all but main), the core and the
# adapters, in one archive an application links with -lxgossip-embed.
LIB_SRC     := $(sort $(wildcard agent/lib/*.c))
LIBEMBED    := $(B)/libxgossip-embed.a
EXAMPLE_BIN := $(patsubst docs/examples/%.c,$(B)/examples/%,$(sort $(wildcard docs/examples/*.c)))
all: $(LIBEMBED) $(EXAMPLE_BIN)

$(LIBEMBED): $(call obj,$(LIB_SRC) $(filter-out agent/daemon/main.c,$(DAEMON_SRC)) $(CORE_SRC) $(ADAPT_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# Examples are built as an application would build them: strict C11 and
# the public header only, so they also prove the header self-contained.
$(B)/examples/%: docs/examples/%.c include/xgossip/xgossip.h $(LIBEMBED)
	@mkdir -p $(@D)
	$(CC) -Iinclude $(CFLAGS) -U_GNU_SOURCE -std=c11 -Wpedantic $(LDFLAGS) \
		-o $@ $< $(LIBEMBED) $(LIBS)

# The library's tests (test_lib*) link it instead of the two archives.
LIB_TESTS := $(filter $(B)/tests/test_lib%,$(UNIT_BIN))
$(LIB_TESTS): $(B)/tests/%: $(B)/obj/tests/unit/%.o $(call obj,$(UNIT_LIB)) $(LIBEMBED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# --- targets ---------------------------------------------------------------
deps:
	@tools/install-deps.sh

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(B)

nstest: all
	@tests/ns/run.sh $(B)

test:
	@tools/install-deps.sh --if-missing
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory nstest

# Every asan sub-make gets the same flags: unit and nstest may relink, and a
# relink without SAN fails against the sanitized objects.
ASAN_VARS := B=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
asan:
	@tools/install-deps.sh --if-missing
	@$(MAKE) --no-print-directory $(ASAN_VARS) all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) --no-print-directory $(ASAN_VARS) unit
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		XG_SANITIZED=1 $(MAKE) --no-print-directory $(ASAN_VARS) nstest

demo:
	@tools/install-deps.sh --if-missing
	@$(MAKE) --no-print-directory all
	@tools/demo.sh $(B)

# A CPU-share meter for the XDP probe benchmark (tests/bench/probe.sh).
$(B)/bench-spin: tests/bench/spin.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench:
	@tools/install-deps.sh --if-missing
	@$(MAKE) --no-print-directory all $(B)/bench-spin
	@tests/bench/run.sh $(B)

bench-accuracy:
	@tools/install-deps.sh --if-missing
	@$(MAKE) --no-print-directory all
	@tests/bench/accuracy/run.sh $(B)

bench-dissem:
	@tools/install-deps.sh --if-missing
	@$(MAKE) --no-print-directory all
	@tests/bench/dissem/run.sh $(B)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(B)/xgossipd $(DESTDIR)$(PREFIX)/sbin/xgossipd
	install -m 0755 $(B)/xgossipctl $(DESTDIR)$(PREFIX)/bin/xgossipctl
	$(if $(PROBE_SRC),install -m 0755 $(B)/xgossip-probe $(DESTDIR)$(PREFIX)/bin/xgossip-probe)
	install -d $(DESTDIR)$(PREFIX)/include/xgossip
	install -m 0644 include/xgossip/*.h $(DESTDIR)$(PREFIX)/include/xgossip/
	install -d $(DESTDIR)$(PREFIX)/lib
	install -m 0644 $(LIBXG) $(DESTDIR)$(PREFIX)/lib/libxgossip.a
	install -m 0644 $(LIBEMBED) $(DESTDIR)$(PREFIX)/lib/libxgossip-embed.a

clean:
	rm -rf build build-asan
