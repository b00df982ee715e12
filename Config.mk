# Config.mk — shared build configuration for every folder's Makefile.
# Override any of these on the command line: make PREFIX=/opt/xen-hv

# Toolchain (host programs)
CC       ?= gcc
AR       ?= ar
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes
XEN_IFV  := -D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__
HOST_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread $(XEN_IFV) \
              -DXENHV_RUNDIR='"$(RUNDIR)"' -DXENHV_LOGDIR='"$(LOGDIR)"' \
              -DXENSTORED_PATH_DEFAULT='"$(XENSTORED_PATH)"' \
              -DXENSTORED_LIBDIR_DEFAULT='"$(XENSTORED_LIBDIR)"' \
              $(FEATURE_DEFS)
HOST_LDFLAGS ?= -pthread

# Toolchain (guest kernel: freestanding, no libc, no SSE so that no xsave or
# FPU state is needed; see frontends/kernel/README.md)
GUEST_CC     ?= $(CC)
GUEST_CFLAGS := -O2 -g -std=gnu11 -ffreestanding -fno-pic -fno-pie \
                -fno-stack-protector -fno-builtin -mno-red-zone \
                -mgeneral-regs-only -fno-asynchronous-unwind-tables \
                -fcf-protection=none $(WARN) $(XEN_IFV)
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
                 -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000

# Installation and run-time directories
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
SHAREDIR ?= $(PREFIX)/share/xen-hv
RUNDIR   ?= /run/xen-hv
LOGDIR   ?= /var/log/xen-hv
# the toolstack's saved domain configs (xl's libxl-json userdata)
XENHV_LIBDIR ?= /var/lib/xen-hv
# xenstored: its Unix socket (clients also honour $XENSTORED_PATH, as Xen's)
# and the state file it writes on SIGUSR1/exit and reads at start.  `:=`, not
# `?=`: a XENSTORED_PATH in the environment of make (clients use that name)
# must not change the built-in default; `make XENSTORED_PATH=...` still does.
XENSTORED_RUNDIR := /run/xenstored
XENSTORED_PATH   := $(XENSTORED_RUNDIR)/socket
XENSTORED_LIBDIR := /var/lib/xenstored

# Feature switches (y/n)
# CONFIG_DEBUG: -O0 and assertions in xen-hv.
CONFIG_DEBUG ?= n
ifeq ($(CONFIG_DEBUG),y)
CFLAGS := -O0 -g
FEATURE_DEFS += -DCONFIG_DEBUG=1
endif

# Debian packages the build and the tests need (make deps installs them).
DEB_PACKAGES := build-essential cmake python3 libxen-dev libevent-dev libyajl-dev \
                libnl-3-dev libnl-route-3-dev liburing-dev clang-format \
                xenstore-utils clang libclang-rt-14-dev liblzma-dev zlib1g-dev
# make bench's second block reference (tests/bench/blk).
DEB_PACKAGES += fio
# The lab VM (tests/lab): QEMU TCG, busybox and the kernel-package tools.
DEB_PACKAGES += qemu-system-x86 busybox-static cpio xz-utils kmod binutils e2fsprogs
