# A thin wrapper around CMake; everything real is in CMakeLists.txt and scripts/.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory
CMAKE_FLAGS ?=

.PHONY: all build run check bench fuzz size device soak install clean micropython

all: build

build:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-demo.sh $(BUILD)

check:
	@scripts/check.sh

bench:
	@scripts/deps.sh bench
	@bench/run.sh

fuzz:
	@scripts/fuzz.sh $${FUZZ_SECONDS:-60}

size:
	@scripts/size.sh

# MicroPython's unix port with linger's module (docs/micropython.md); the
# binary's path is the last line.
micropython:
	@scripts/micropython.sh

# The firmware for QEMU's mps2-an386 board (device/); scripts/run-device.sh PORT boots it.
device:
	@scripts/device.sh

soak:
	@scripts/soak.sh $${SOAK_REQUESTS:-1000000}

install: build
	@cmake --install $(BUILD)

clean:
	rm -rf build build-* 
