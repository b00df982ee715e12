#!/bin/sh
# CTest lab.xl-hello: scenario xl-hello (scenarios/xl-hello.sh) in the lab VM;
# TAP and exit status from run-lab.sh (77: skipped, with the reason).
exec "$(dirname "$0")/run-lab.sh" xl-hello
