# xen-hv top-level Makefile: recursive make over the design's folders.
# Targets: all (default), check, bench, install, deps, format, clean.
XEN_ROOT := $(CURDIR)
include Config.mk

SUBDIRS := grant-tables dom0-tools xen-hv xenstore frontends backends toolstack tests

.PHONY: all check bench fuzz install deps format clean $(SUBDIRS)

all: $(SUBDIRS)

$(SUBDIRS):
	$(MAKE) -C $@ XEN_ROOT=$(XEN_ROOT)

# tests link the modules of xen-hv and the guest kernel of frontends.
tests: xen-hv frontends dom0-tools xenstore
xenstore: dom0-tools
backends: dom0-tools xenstore
toolstack: dom0-tools xenstore
xen-hv: grant-tables dom0-tools

# make check: build everything, then CTest over every test (TAP per test).
check: all
	cmake -S tests -B build/tests -DXEN_ROOT=$(XEN_ROOT) >/dev/null
	cd build/tests && ctest --output-on-failure $(CTEST_ARGS)

# make bench: benchmarks print figure, reference, ratio.
bench: all
	tests/bench/run.sh

# make fuzz: xenstored's libFuzzer target for FUZZ_TIME (300) seconds.
fuzz: xenstore dom0-tools
	$(MAKE) -C tests/xenstored XEN_ROOT=$(XEN_ROOT) fuzz

install: all
	for d in $(SUBDIRS); do $(MAKE) -C $$d XEN_ROOT=$(XEN_ROOT) install || exit 1; done

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PACKAGES)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	for d in $(SUBDIRS); do $(MAKE) -C $$d XEN_ROOT=$(XEN_ROOT) clean || exit 1; done
	rm -rf build
