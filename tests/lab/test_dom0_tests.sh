#!/bin/sh
# CTest lab.dom0-tests: scenario dom0-tests (scenarios/dom0-tests.sh) in the
# lab VM, so the control-domain tests that drive guest domains run where
# the host has no usable /dev/kvm; TAP and exit status from run-lab.sh
# (77: skipped, with the reason).
exec "$(dirname "$0")/run-lab.sh" dom0-tests
