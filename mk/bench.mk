# mk/bench.mk - `make bench`: build everything, run the default benchmark,
# print the table, write the chart (build/bench.svg, copied to docs/) and
# regenerate the table of docs/choosing.md between its markers.
#
# ZeroMQ and NNG are measured beside ipckit when they are installed
# (libzmq3-dev, libnng-dev): cli/bench_peers.c is compiled again with
# -DHAVE_ZMQ / -DHAVE_NNG into build/bench/ipckit, linked with them.  The plain
# build never needs them.  Debian's libnng-dev ships no pkg-config file, so
# NNG is found by compiling a one-line program against it.
#   make bench                      every target, each pair on one CPU (two when
#                                   both spin), so rows compare like with like
#   make bench BENCH_ARGS=--quick   under a minute; BENCH_ARGS= leaves placement
#                                   to the scheduler
#   make ci-extra-bench             CI: --quick --json, every target has a row

BENCH_ARGS ?= --place one
BENCH_BIN  := $(B)/bench/ipckit
BENCH_DOC  := docs/choosing.md

# Private headers of the engine and the CLI: the Makefile's pattern rules
# know only ipckit.h and internal.h.
BENCH_LIB_OBJ := $(filter $(B)/src/bench%.o $(B)/pic/src/bench%.o,$(LIB_OBJ) $(PIC_OBJ))
BENCH_CLI_OBJ := $(filter $(B)/cli/bench%.o,$(CLI_OBJ))
$(BENCH_LIB_OBJ): src/bench.h
$(BENCH_CLI_OBJ): cli/bench.h cli/cli.h

ZMQ_LIBS := $(shell pkg-config --libs libzmq 2>/dev/null)
ZMQ_CFLAGS := $(shell pkg-config --cflags libzmq 2>/dev/null)
BENCH_HASH := \#
NNG_LIBS := $(shell pkg-config --libs nng 2>/dev/null || \
	(printf '$(BENCH_HASH)include <nng/nng.h>\nint main(void){return nng_version()!=0;}\n' | \
	 $(CC) -x c - -o /dev/null -lnng >/dev/null 2>&1 && echo -lnng))
PEER_DEFS := $(if $(ZMQ_LIBS),-DHAVE_ZMQ $(ZMQ_CFLAGS)) $(if $(NNG_LIBS),-DHAVE_NNG)
PEER_LIBS := $(ZMQ_LIBS) $(NNG_LIBS)

$(B)/bench/bench_peers.o: cli/bench_peers.c cli/bench.h cli/cli.h include/ipckit.h
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) $(PEER_DEFS) -c $< -o $@

$(BENCH_BIN): $(filter-out $(B)/cli/bench_peers.o,$(CLI_OBJ)) $(B)/bench/bench_peers.o $(STATIC)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm $(PEER_LIBS)

bench: all $(BENCH_BIN)
	$(BENCH_BIN) bench $(BENCH_ARGS) --svg $(B)/bench.svg --md $(B)/bench.md
	cp $(B)/bench.svg docs/bench.svg
	@awk -v md=$(B)/bench.md ' \
		/<!-- bench:begin -->/ { print; while ((getline l < md) > 0) print l; skip = 1; next } \
		/<!-- bench:end -->/ { skip = 0 } !skip' $(BENCH_DOC) > $(B)/choosing.md.new
	@mv $(B)/choosing.md.new $(BENCH_DOC)
	@echo "wrote $(B)/bench.svg, docs/bench.svg and the table of $(BENCH_DOC)"

# CI: one quick run; every target listed must have at least one measured row.
ci-extra-bench: all
	$(CLI) bench --quick --json > $(B)/bench-ci.json
	@missing=; for t in $$($(CLI) bench --list); do \
		grep -q "^{\"scheme\":\"$$t\"," $(B)/bench-ci.json || missing="$$missing $$t"; \
	done; \
	if [ -n "$$missing" ]; then echo "bench: no row for:$$missing"; exit 1; fi; \
	echo "bench: every target has a row ($$(grep -c '^{' $(B)/bench-ci.json) rows)"

.PHONY: ci-extra-bench

# CI: ZeroMQ and NNG measured beside pshm (they are the peers the ring is
# judged against).  Installs libzmq3-dev and libnng-dev with apt-get where
# they are missing, then builds the bench binary again in a sub-make so that
# the libraries are found.
ci-extra-peers:
	@if ! pkg-config --exists libzmq 2>/dev/null || ! test -e /usr/include/nng/nng.h; then \
		command -v apt-get >/dev/null || { echo "peers: no libzmq/libnng and no apt-get"; exit 1; }; \
		apt-get update -qq && apt-get install -y -qq libzmq3-dev libnng-dev pkgconf >/dev/null; \
	fi
	$(MAKE) --no-print-directory $(BENCH_BIN)
	$(BENCH_BIN) bench --quick --json --schemes pshm,zmq,nng --sizes 64 > $(B)/bench-peers.json
	@for t in pshm zmq nng; do \
		grep -q "^{\"scheme\":\"$$t\"," $(B)/bench-peers.json || { echo "peers: no row for $$t"; exit 1; }; \
	done
	@sed -nE 's/^\{"scheme":"([^"]*)".*"rtt_p50_ns":([^,]*).*"msgs_per_s":([^,]*).*"wait":"([a-z]*)".*/peers: \1 (\4): round trip p50 \2 ns, one way \3 msg\/s/p' \
		$(B)/bench-peers.json

.PHONY: ci-extra-peers
