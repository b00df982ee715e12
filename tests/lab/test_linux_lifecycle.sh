#!/bin/sh
# CTest lab.linux-lifecycle: scenario linux-lifecycle (scenarios/linux-lifecycle.sh) in the lab VM;
# TAP and exit status from run-lab.sh (77: skipped, with the reason).
exec "$(dirname "$0")/run-lab.sh" linux-lifecycle
