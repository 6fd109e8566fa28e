# loco: build with `make`, test with `make test`, benchmark with `make bench`.
#
# Knobs: ARCH (default -march=native; set ARCH= for a portable build),
#        OPT (default -O3), BLAS_DIR (the OpenMP build of Debian's OpenBLAS).
#
# CUDA=1 adds the CUDA backend (src/cuda/*.cu, docs/cuda.md), compiled with
# NVCC (default /usr/local/cuda/bin/nvcc) for CUDA_ARCH (default sm_90 code
# plus compute_90 PTX) and linked with cuBLAS from CUDA_HOME/lib64.  It builds
# into build-cuda/ (the command is build-cuda/loco), so that its objects never
# mix with the CPU build's.  Without CUDA=1 nothing needs nvcc: a stub
# (src/cuda/cuda_stub.c) answers every CUDA call with "built without CUDA".

CC       ?= gcc
ARCH     ?= -march=native
OPT      ?= -O3
BLAS_DIR ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
BLAS_INC ?= /usr/include/x86_64-linux-gnu/openblas-openmp
FT_INC   ?= /usr/include/freetype2

CFLAGS   += -std=c11 $(OPT) $(ARCH) -fopenmp -fno-math-errno -Wall -Wextra \
            -Wno-unused-parameter -D_DEFAULT_SOURCE -Iinclude -Isrc -I$(BLAS_INC) -I$(FT_INC) -MMD -MP
LDLIBS   += -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas -lpcre2-8 -lcjson -lz -lzmq -lsodium -lfreetype -lpng -lmicrohttpd -lgif -lcurl -fopenmp -lm

CUDA     ?= 0
# BUILD may be set (make BUILD=build-x) to keep several builds apart.
ifeq ($(CUDA),1)
BUILD    ?= build-cuda
else
BUILD    ?= build
endif
LIB_SRC  := $(wildcard src/core/*.c src/nn/*.c src/optim/*.c src/data/*.c src/tok/*.c src/ckpt/*.c src/algo/*.c src/sim/*.c src/train/*.c src/net/*.c src/route/*.c \
                      src/env/*.c src/env/*/*.c src/agent/*.c src/export/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/src/nn/layers_f64.o $(BUILD)/src/nn/gemm_f64.o \
            $(BUILD)/src/agent/layers_f64.o

ifeq ($(CUDA),1)
NVCC      ?= /usr/local/cuda/bin/nvcc
CUDA_HOME ?= /usr/local/cuda
CUDA_ARCH ?= -gencode arch=compute_90,code=[sm_90,compute_90]
# --fmad=false: every product and sum rounded on its own, as on the CPU
# (src/cuda/common.cuh explains why); warnings are errors.
NVCCFLAGS ?= -std=c++17 -O3 $(CUDA_ARCH) --fmad=false -Werror all-warnings \
             -Xcompiler -Wall,-Wextra,-Wno-unused-parameter
NVCCFLAGS += -DLOCO_CUDA -D_DEFAULT_SOURCE -Iinclude -Isrc
CFLAGS   += -DLOCO_CUDA
LDLIBS   += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
LIB_OBJ  += $(patsubst %.cu,$(BUILD)/%.o,$(wildcard src/cuda/*.cu))
LOCO_CMD := $(BUILD)/loco
TEST_ENV := LOCO_BIN=$(BUILD)/loco
else
LIB_OBJ  += $(BUILD)/src/cuda/cuda_stub.o
ifeq ($(BUILD),build)
LOCO_CMD := loco
TEST_ENV :=
else
LOCO_CMD := $(BUILD)/loco
TEST_ENV := LOCO_BIN=$(BUILD)/loco
endif
endif
CLI_SRC  := $(wildcard src/cli/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC:= $(wildcard bench/*.c)

.PHONY: all test bench clean deps fuzz
all: $(LOCO_CMD) $(BUILD)/libloco.a $(BUILD)/libloco_playroom.so $(BUILD)/libloco_env.so

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

# The layer kernels and their matrix products are compiled a second time in
# double precision, for the finite-difference tests of every backward pass
# (the agent's layers likewise).
$(BUILD)/src/nn/%_f64.o: src/nn/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DLOCO_REAL_DOUBLE -c $< -o $@

$(BUILD)/src/agent/%_f64.o: src/agent/%.c
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

# The Playroom alone as a shared library, for its Python binding
# (python/loco_playroom.py loads it with ctypes).
PLAYROOM_SO_SRC := $(wildcard src/env/playroom/*.c) src/core/rng.c src/core/error.c src/core/file.c
$(BUILD)/libloco_playroom.so: $(PLAYROOM_SO_SRC) $(wildcard src/env/playroom/*.h) include/loco/playroom.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -shared $(filter %.c,$^) -o $@ -lz -fopenmp -lm

# The web tasks alone as a shared library, for their Python binding
# (python/loco_env.py loads it with ctypes).
ENV_SO_SRC := $(wildcard src/env/web/*.c) src/core/rng.c src/core/error.c
$(BUILD)/libloco_env.so: $(ENV_SO_SRC) $(wildcard src/env/web/*.h) include/loco/env.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -shared $(filter %.c,$^) -o $@ -lfreetype -lz -fopenmp -lm

# The test binary wraps the allocator to prove training steps allocate nothing.
WRAP     := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
$(BUILD)/test_loco: $(TEST_OBJ) $(BUILD)/libloco.a | $(BUILD)/libloco_playroom.so $(BUILD)/libloco_env.so
	$(CC) $(CFLAGS) $^ -o $@ $(WRAP) $(LDLIBS)

$(BUILD)/bench_%: bench/bench_%.c $(BUILD)/libloco.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

test: all $(BUILD)/test_loco
	@$(TEST_ENV) BUILD=$(BUILD) sh tests/run.sh

bench: all $(BENCH_SRC:bench/%.c=$(BUILD)/%)
	@sh bench/run.sh

deps:
	@sh scripts/deps.sh

# libFuzzer targets (clang): fuzz/fuzz_<name>.c, each built with the library
# sources under ASan + UBSan.  `make fuzz` runs every target for FUZZ_SECONDS
# (default 600) on its corpus in fuzz/corpus/<name>; `make fuzz FUZZ_SECONDS=30`
# for a short run.  The test suite runs each target briefly on its own.
comma        := ,
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS  := -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wno-pass-failed \
                -fopenmp -D_DEFAULT_SOURCE -Iinclude -Isrc -I$(BLAS_INC) -I$(FT_INC)
# The fuzz targets are CPU builds: the CUDA stub stands in for the device.
# The library is compiled once under the sanitizers (fuzzer-no-link: coverage
# without libFuzzer's main) into an archive that every target links.
FUZZ_LIB     := $(LIB_SRC) src/cuda/cuda_stub.c
FUZZ_OBJ     := $(FUZZ_LIB:%.c=$(BUILD)/fuzzlib/%.o)
$(BUILD)/fuzzlib/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) -MMD -MP -c $< -o $@
$(BUILD)/fuzzlib/libloco_fuzz.a: $(FUZZ_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/fuzzlib/libloco_fuzz.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $< $(BUILD)/fuzzlib/libloco_fuzz.a -o $@ $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p fuzz/corpus/$${n#fuzz_}; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz/corpus/$${n#fuzz_} \
	       > $(BUILD)/fuzz/$$n.log 2>&1; then \
	    grep -E "stat::number_of_executed_units" $(BUILD)/fuzz/$$n.log; \
	  else grep -E "ERROR|SUMMARY|crash-|leak-|timeout-" $(BUILD)/fuzz/$$n.log; \
	    echo "$$n FAILED (log: $(BUILD)/fuzz/$$n.log)"; exit 1; fi; done

clean:
	rm -rf $(BUILD) $(LOCO_CMD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
