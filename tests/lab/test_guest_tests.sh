#!/bin/sh
# CTest lab.guest-tests: scenario guest-tests (scenarios/guest-tests.sh) in the lab VM;
# TAP and exit status from run-lab.sh (77: skipped, with the reason).
exec "$(dirname "$0")/run-lab.sh" guest-tests
