# loco: build with `make`, test with `make test`, benchmark with `make bench`.
#
# Knobs: ARCH (default -march=native; set ARCH= for a portable build),
#        OPT (default -O3), BLAS_DIR (the OpenMP build of Debian's OpenBLAS).

CC       ?= gcc
ARCH     ?= -march=native
OPT      ?= -O3
BLAS_DIR ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
BLAS_INC ?= /usr/include/x86_64-linux-gnu/openblas-openmp

CFLAGS   += -std=c11 $(OPT) $(ARCH) -fopenmp -fno-math-errno -Wall -Wextra \
            -Wno-unused-parameter -D_DEFAULT_SOURCE -Iinclude -Isrc -I$(BLAS_INC) -MMD -MP
LDLIBS   += -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas -lpcre2-8 -lcjson -lz -lzmq -lsodium -fopenmp -lm

BUILD    := build
LIB_SRC  := $(wildcard src/core/*.c src/nn/*.c src/optim/*.c src/data/*.c src/tok/*.c src/ckpt/*.c src/dist/*.c src/net/*.c src/route/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/src/nn/layers_f64.o
CLI_SRC  := $(wildcard src/cli/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC:= $(wildcard bench/*.c)

.PHONY: all test bench clean deps fuzz
all: loco $(BUILD)/libloco.a

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The layer kernels are compiled a second time in double precision, for the
# finite-difference tests of every backward pass.
$(BUILD)/src/nn/layers_f64.o: src/nn/layers.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DLOCO_REAL_DOUBLE -c $< -o $@

$(BUILD)/libloco.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

loco: $(CLI_OBJ) $(BUILD)/libloco.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The same command inside the build directory, for builds that must not
# replace ./loco (tests find it with LOCO_BIN=$(BUILD)/loco).
$(BUILD)/loco: $(CLI_OBJ) $(BUILD)/libloco.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The test binary wraps the allocator to prove training steps allocate nothing.
WRAP     := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
$(BUILD)/test_loco: $(TEST_OBJ) $(BUILD)/libloco.a
	$(CC) $(CFLAGS) $^ -o $@ $(WRAP) $(LDLIBS)

$(BUILD)/bench_%: bench/bench_%.c $(BUILD)/libloco.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

test: all $(BUILD)/test_loco
	@BUILD=$(BUILD) sh tests/run.sh

bench: all $(BENCH_SRC:bench/%.c=$(BUILD)/%)
	@sh bench/run.sh

deps:
	@sh scripts/deps.sh

# libFuzzer targets (clang): fuzz/fuzz_<name>.c, each built with the library
# sources under ASan + UBSan.  `make fuzz` runs every target for FUZZ_SECONDS
# (default 600) on its corpus in fuzz/corpus/<name>; `make fuzz FUZZ_SECONDS=30`
# for a short run.  The test suite runs each target briefly on its own.
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS  := -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wno-pass-failed \
                -fopenmp -D_DEFAULT_SOURCE -Iinclude -Isrc -I$(BLAS_INC)
$(BUILD)/fuzz/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $< $(LIB_SRC) -o $@ $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p fuzz/corpus/$${n#fuzz_}; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz/corpus/$${n#fuzz_} \
	       > $(BUILD)/fuzz/$$n.log 2>&1; then \
	    grep -E "stat::number_of_executed_units" $(BUILD)/fuzz/$$n.log; \
	  else grep -E "ERROR|SUMMARY|crash-|leak-|timeout-" $(BUILD)/fuzz/$$n.log; \
	    echo "$$n FAILED (log: $(BUILD)/fuzz/$$n.log)"; exit 1; fi; done

clean:
	rm -rf $(BUILD) loco

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
