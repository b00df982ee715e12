#!/bin/sh
# CTest lab.toolstack-tests: scenario toolstack-tests
# (scenarios/toolstack-tests.sh) in the lab VM, so the xl tests that create
# guest domains run where the host has no usable /dev/kvm; TAP and exit
# status from run-lab.sh (77: skipped, with the reason).  Two lab CPUs
# (LAB_CPUS, unless set): test_xl_domains pins a vCPU to CPU 1; its guests
# have one vCPU each, so the two lab CPUs' unsynchronized TSCs (README,
# findings) do not matter there.
LAB_CPUS=${LAB_CPUS:-2}
export LAB_CPUS
exec "$(dirname "$0")/run-lab.sh" toolstack-tests
