#!/bin/sh
# CTest lab.linux-disk: scenario linux-disk (scenarios/linux-disk.sh) in the lab VM;
# TAP and exit status from run-lab.sh (77: skipped, with the reason).
exec "$(dirname "$0")/run-lab.sh" linux-disk
