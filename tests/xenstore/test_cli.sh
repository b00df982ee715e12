#!/bin/bash
# test_cli.sh — our xenstore CLI tools (xenstore/tools) against our
# xenstored: output, messages and exit codes compared with the exact text
# Xen 4.17's tools print (cases in cli_cases.sh).
. "$(dirname "$0")/xsd_harness.sh"
. "$(dirname "$0")/cli_cases.sh"

if ! xsd_start; then
    tap_ok 1 "xenstored starts and prints READY"
    tap_finish
    exit 1
fi
CLI_LOG=$(mktemp /tmp/xs-cli-log.XXXXXX)
cli_cases "$OUR_TOOLS"
rm -f "$CLI_LOG"
tap_finish
