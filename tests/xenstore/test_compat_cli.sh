#!/bin/bash
# test_compat_cli.sh — Debian's own xenstore-utils (/usr/bin/xenstore-*)
# against OUR xenstored through XENSTORED_PATH, checked against the text
# Xen 4.17's tools print (cli_cases.sh); then the same sequence with our
# tools on a fresh daemon must give an identical transcript (stdout,
# stderr, exit status of every command).
. "$(dirname "$0")/xsd_harness.sh"
. "$(dirname "$0")/cli_cases.sh"

if [ ! -x /usr/bin/xenstore-read ]; then
    echo "1..0 # SKIP Debian's xenstore-utils are not installed"
    exit 77
fi
LOGS=$(mktemp -d /tmp/xs-compat.XXXXXX)
trap 'xsd_stop; rm -rf "$LOGS"' EXIT

xsd_start || { tap_ok 1 "xenstored starts"; tap_finish; exit 1; }
CLI_LOG=$LOGS/debian
cli_cases /usr/bin
xsd_stop

xsd_start || { tap_ok 1 "xenstored restarts"; tap_finish; exit 1; }
CLI_LOG=$LOGS/ours
# Only the transcript counts here (test_cli.sh checks ours case by case).
saved_n=$TAP_N saved_fail=$TAP_FAIL
cli_cases "$OUR_TOOLS" >/dev/null
TAP_N=$saved_n TAP_FAIL=$saved_fail
xsd_stop

if diff -u "$LOGS/debian" "$LOGS/ours" >"$LOGS/diff"; then
    tap_ok 0 "our tools' transcript is identical to Debian's"
else
    tap_ok 1 "our tools' transcript is identical to Debian's"
    sed 's/^/# /' "$LOGS/diff"
fi
tap_finish
