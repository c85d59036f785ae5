# procperf — entry points. README.md explains each target.
#
#   make              build procperf.ko against the cached release test kernel (or KDIR=...)
#   make demo         boot the release kernel in QEMU, load the module, show what it publishes
#   make test         every test: host crates, then QEMU tests on the debug kernel
#   make lint         formatting, clippy on the crates and on the module, the model's kernel build check
#   make test-debian  procperf on Debian's own 7.x kernel (trixie-backports), as shipped, in QEMU
#   make install      install on this machine through DKMS and load it (KERNEL=release: another kernel)
#   make uninstall    unload and remove it
#   make accuracy     the held-out accuracy test at full length (1500 s of an unseen workload) and the
#                     real-applications test (420 s), ~40 min
#   make scale        procperf with 10 000 to 70 000 processes on the debug kernel (~30 min)
#   make soak         30 min of fork/exec storms, OOM kills, model swaps on the debug kernel (~40 min)
#   make reliability  docs/reliability.md from the logs of the last make test, scale and soak
#   make setup        install the development packages and tools (the build and test targets run it)
#   make model        regenerate the embedded default model from reference workloads in QEMU
#   make report       build/report.html: the default model scored on the held-out capture
#   make results      regenerate the offline accuracy tables in docs/results.md and README.md
#   make top          procperf top replaying a recorded predictions.csv (no module, no root)
SHELL := /bin/bash
KVARIANT ?= release

.PHONY: all module setup kernels demo test test-host test-kernel test-debian install uninstall lint accuracy scale soak reliability model model-fit report results top clean
all: module

module:
	@scripts/build-module $(if $(KDIR),--kdir $(KDIR),$(KVARIANT))

setup:
	@scripts/setup

kernels:
	@scripts/build-kernel 6.12 release && scripts/build-kernel 6.12 debug && scripts/build-kernel 7.3 debug

demo:
	@scripts/demo

test:
	@scripts/test

test-host:
	@scripts/test --host-only

test-kernel:
	@scripts/test --kernel-only

test-debian:
	@scripts/debian-kernel

install:
	@scripts/install $(if $(KERNEL),--kernel $(KERNEL))

uninstall:
	@scripts/install --uninstall

lint:
	@scripts/lint

# The held-out accuracy test long enough to check that the forest beats both naive forecasts
# (make test runs it for 200 s, where that is reported but cannot be relied on), then the
# forecasts and intervals on real applications no mix runs (tests/accuracy/apps.py, 420 s).
scale:
	@scripts/long-test scale

soak:
	@scripts/long-test soak

reliability:
	@scripts/reliability

accuracy:
	@PP_TEST_VARIANT=release PP_HELDOUT_SECONDS=1500 scripts/test --kernel-only tests/kernel/accuracy_heldout.py tests/accuracy/apps.py

# The default model: record the reference workloads in QEMU, fit, export (about 20 min);
# model-fit refits from the committed data/reference CSVs only.
model:
	@scripts/model

model-fit:
	@scripts/model --fit-only

report:
	@mkdir -p build && cargo run --release -q -p trainer -- report rust/model/default data/reference/heldout.csv.xz --out build/report.html

# The offline accuracy tables of docs/results.md and README.md, from the committed model (no refit).
results:
	@scripts/results

top:
	@cargo run --release -q -p procperf-cli -- top --replay cli/tests/data/predictions-recorded.csv

clean:
	rm -rf build target
