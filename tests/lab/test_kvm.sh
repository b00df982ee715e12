#!/bin/sh
# CTest lab.kvm: scenario kvm (scenarios/kvm.sh) in the lab VM;
# TAP and exit status from run-lab.sh (77: skipped, with the reason).
exec "$(dirname "$0")/run-lab.sh" kvm
