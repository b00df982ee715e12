# cli_cases.sh — sourced: cli_cases DIR runs the xenstore tools found in
# DIR (xenstore, xenstore-read, ...) through a fixed sequence of commands
# against the running xenstored, checks each one's stdout, stderr and exit
# status against the text Xen 4.17's tools print, and appends a transcript
# of everything to $CLI_LOG (test_compat_cli.sh compares two of them).

# run CMD...: OUT/ERR (exact bytes, trailing newlines kept), RC.  The tool
# directory is cut from messages so that Debian's and ours compare.
run() {
    "$@" >"$CLI_TMP/out" 2>"$CLI_TMP/err"
    RC=$?
    OUT=$(cat "$CLI_TMP/out"; echo .)
    OUT=${OUT%.}
    ERR=$(sed "s|$CLI_DIR/||g" "$CLI_TMP/err"; echo .)
    ERR=${ERR%.}
    {
        echo "\$ ${*#"$CLI_DIR/"}"
        printf '%s' "$OUT"
        printf '%s' "$ERR" | sed 's/^/stderr: /'
        echo "exit $RC"
    } >>"$CLI_LOG"
}

# check DESC RC OUT [ERR]: one TAP line for the last run.
check() {
    local want_err=${4-}
    if [ "$RC" = "$2" ] && [ "$OUT" = "$3" ] && [ "$ERR" = "$want_err" ]; then
        tap_ok 0 "$1"
    else
        tap_ok 1 "$1"
        printf '%s\n' "exit $RC (want $2)" "stdout:" "$OUT" "want:" "$3" \
            "stderr:" "$ERR" "want:" "$want_err" | sed 's/^/# /'
    fi
}

cli_cases() {
    CLI_DIR=$1
    local d=$1
    CLI_TMP=$(mktemp -d /tmp/xs-cli.XXXXXX)
    : >"$CLI_LOG"

    run "$d/xenstore-write" /cli/a hello
    check "write /cli/a" 0 ""
    run "$d/xenstore-read" /cli/a
    check "read /cli/a" 0 $'hello\n'
    run "$d/xenstore-read" -p /cli/a
    check "read -p" 0 $'/cli/a: hello\n'
    run "$d/xenstore" read /cli/a
    check "multi-call: xenstore read" 0 $'hello\n'
    run "$d/xenstore-write" /cli/x 1 /cli/y two
    check "write two pairs (one transaction)" 0 ""
    run "$d/xenstore-read" /cli/x /cli/y
    check "read two keys" 0 $'1\ntwo\n'
    run "$d/xenstore-write" /cli/esc 'a\tb\x01\\c\033'
    check "write escaped value" 0 ""
    run "$d/xenstore-read" /cli/esc
    check "read shows escapes" 0 'a\tb\001\\c\x1b'$'\n'
    run "$d/xenstore-read" -R /cli/esc
    check "read -R gives raw bytes" 0 $'a\tb\x01\\c\033'
    run "$d/xenstore-write" -R /cli/raw 'a\tb'
    run "$d/xenstore-read" /cli/raw
    check "write -R keeps backslashes" 0 'a\\tb'$'\n'
    run "$d/xenstore-read" /cli/none
    check "read missing: exit 1" 1 "" $'xenstore-read: couldn\'t read path /cli/none\n'
    run "$d/xenstore-read" /cli/a /cli/none
    check "read with one missing: the rest still printed" 1 $'hello\n' \
        $'xenstore-read: couldn\'t read path /cli/none\n'
    run "$d/xenstore-exists" /cli/a
    check "exists: yes" 0 ""
    run "$d/xenstore-exists" /cli/none
    check "exists: no" 1 ""
    run "$d/xenstore-write" /cli/dir/one 1
    run "$d/xenstore-write" /cli/dir/two 2
    run "$d/xenstore-list" /cli/dir
    check "list" 0 $'one\ntwo\n'
    run "$d/xenstore-list" -p /cli/dir
    check "list -p" 0 $'/cli/dir/one\n/cli/dir/two\n'
    run "$d/xenstore-list" /cli/none
    check "list missing" 1 "" $'xenstore-list: could not list path /cli/none\n'
    run "$d/xenstore-ls" /cli/dir
    check "ls" 0 $'one = "1"\ntwo = "2"\n'
    run "$d/xenstore-ls" -f /cli/dir
    check "ls -f" 0 $'/cli/dir/one = "1"\n/cli/dir/two = "2"\n'
    run "$d/xenstore-write" /cli/tree/l1/l2 deep
    run "$d/xenstore-ls" /cli/tree
    check "ls nests with indentation" 0 $'l1 = ""\n l2 = "deep"\n'
    run "$d/xenstore-chmod" /cli/dir/one n0 r5
    check "chmod" 0 ""
    run "$d/xenstore-ls" -p /cli/dir
    check "ls -p shows permissions" 0 \
        'one = "1"  . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)
two = "2"  . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
'
    run "$d/xenstore-chmod" -r /cli/tree b3
    run "$d/xenstore-ls" -f -p /cli/tree
    check "chmod -r applies to children" 0 \
        $'/cli/tree/l1 = ""   (b3)\n/cli/tree/l1/l2 = "deep"   (b3)\n'
    run "$d/xenstore-write" /cli/up/mid/leaf v
    run "$d/xenstore-chmod" -u /cli/up/mid/leaf r4
    run "$d/xenstore-ls" -f -p /cli/up
    check "chmod -u applies to the parents" 0 \
        $'/cli/up/mid = ""   (r4)\n/cli/up/mid/leaf = "v"   (r4)\n'
    run "$d/xenstore-ls" -f -p /cli
    printf '%s' "$OUT" | grep -qx '/cli/up = ""   (r4)'
    tap_ok $? "chmod -u reached /cli/up"
    run "$d/xenstore-rm" /cli/up
    run "$d/xenstore-chmod" /cli/a x1
    check "chmod bad permission" 1 "" \
        $'xenstore-chmod: Invalid permission specification: \'x\'\n'
    run "$d/xenstore-write" /cli/long \
        0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789
    run "$d/xenstore-ls" /cli
    check "ls cuts long values at 80 columns" 0 'a = "hello"
x = "1"
y = "two"
esc = "a\tb\001\\c\x1b"
raw = "a\\tb"
dir = ""
 one = "1"
 two = "2"
tree = ""
 l1 = ""
  l2 = "deep"
long = "01234567890123456789012345678901234567890123456789012345678901234567\..."
'
    run "$d/xenstore-rm" /cli/y
    check "rm" 0 ""
    run "$d/xenstore-exists" /cli/y
    check "rm removed it" 1 ""
    run "$d/xenstore-rm" -t /cli/tree/l1/l2
    check "rm -t" 0 ""
    run "$d/xenstore-list" /cli/tree
    check "rm -t removed the empty valueless parent" 1 "" \
        $'xenstore-list: could not list path /cli/tree\n'
    run "$d/xenstore-rm" /cli/none/deeper
    check "rm under a missing parent" 1 "" \
        $'xenstore-rm: could not remove path /cli/none/deeper\n'
    run "$d/xenstore-read"
    check "read without a key: usage" 1 "" \
        $'xenstore-read: Usage: xenstore-read [-h] [-p] [-s] [-R] key [...]\n'
    run "$d/xenstore" frob /cli/a
    check "unknown mode" 1 "" $'xenstore: unknown mode frob\n\n'
    run "$d/xenstore-write" /cli/a
    check "write with a missing value: usage" 1 "" \
        $'xenstore-write: Usage: xenstore-write [-h] [-s] [-R] key value [...]\n'
    run "$d/xenstore-rm" -p /cli/a
    check "option of another mode: usage" 1 "" \
        $'xenstore-rm: Usage: xenstore-rm [-h] [-s] [-t] key [...]\n'

    # watch: the initial event, then one change; -n 2 ends it.
    "$d/xenstore-watch" -n 2 /cli/w >"$CLI_TMP/watch" 2>&1 &
    local wpid=$! i
    for i in $(seq 100); do
        [ -s "$CLI_TMP/watch" ] && break
        sleep 0.05
    done
    "$d/xenstore-write" /cli/w/k v
    for i in $(seq 100); do
        kill -0 "$wpid" 2>/dev/null || break
        sleep 0.05
    done
    kill "$wpid" 2>/dev/null
    wait "$wpid"
    RC=$?
    OUT=$(cat "$CLI_TMP/watch")
    ERR=
    printf '$ xenstore-watch -n 2 /cli/w\n%s\nexit %s\n' "$OUT" "$RC" \
        >>"$CLI_LOG"
    check "watch -n 2: initial event and the change" 0 $'/cli/w\n/cli/w/k'
    rm -rf "$CLI_TMP"
}
