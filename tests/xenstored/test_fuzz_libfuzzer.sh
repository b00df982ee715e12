#!/bin/bash
# test_fuzz_libfuzzer.sh — the short libFuzzer run of make check: replay the
# committed seed corpus (fuzz_corpus/) through fuzz_xs_msg, then fuzz for
# FUZZ_SECONDS (default 15) with a fixed seed.  fuzz_xs_msg aborts on any
# broken invariant (reply order, tree consistency, connection counters),
# and ASan/UBSan/LeakSanitizer stop it on memory errors and leaks; new
# inputs and crash files go to a temporary directory.  `make fuzz` at the
# top level is the long run (300 s).  TAP.
dir=$(cd "$(dirname "$0")" && pwd)
bin=$dir/fuzz_xs_msg
secs=${FUZZ_SECONDS:-15}
cc=${FUZZ_CC:-clang}

if ! [ -x "$bin" ]; then
    if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
        "$cc" -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then
        echo "1..0 # SKIP $cc cannot link libFuzzer (apt-get install clang libclang-rt-14-dev)"
        exit 0
    fi
    echo "1..1"
    echo "not ok 1 - fuzz_xs_msg built (run make -C tests/xenstored)"
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "1..4"

"$bin" -runs=0 -close_fd_mask=2 "$dir/fuzz_corpus" >"$work/replay.log" 2>&1
rc=$?
n=$(ls "$dir/fuzz_corpus" | wc -l)
if [ $rc -eq 0 ] && [ "$n" -ge 5 ]; then
    echo "ok 1 - the $n seed inputs replay cleanly"
else
    echo "not ok 1 - the $n seed inputs replay cleanly (status $rc)"
    tail -n 30 "$work/replay.log" | sed 's/^/# /'
fi

mkdir "$work/corpus"
"$bin" -seed=4242 -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -close_fd_mask=2 -artifact_prefix="$work/" -print_final_stats=1 \
    "$work/corpus" "$dir/fuzz_corpus" >"$work/fuzz.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
    echo "ok 2 - ${secs} s of fuzzing (seed 4242): no crash, leak or broken invariant"
else
    echo "not ok 2 - ${secs} s of fuzzing (seed 4242): status $rc"
    grep -v '^#' "$work/fuzz.log" | tail -n 40 | sed 's/^/# /'
    for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
        [ -e "$f" ] && echo "# input: $(base64 -w0 "$f")"
    done
fi

crashes=$(ls "$work" | grep -c -e '^crash-' -e '^leak-' -e '^timeout-' -e '^oom-')
if [ "$crashes" -eq 0 ]; then
    echo "ok 3 - no crash, leak, timeout or oom input written"
else
    echo "not ok 3 - no crash, leak, timeout or oom input written ($crashes)"
fi

runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/fuzz.log")
cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -n1)
echo "# executed ${runs:-0} inputs, ${cov:-no coverage line}, corpus $(ls "$work/corpus" | wc -l) new"
# A few thousand inputs a second on this machine; 1000 in all proves the
# run did fuzz rather than stop at start-up.
if [ "${runs:-0}" -ge 1000 ]; then
    echo "ok 4 - the fuzzer ran (${runs} inputs)"
else
    echo "not ok 4 - the fuzzer ran (${runs:-0} inputs)"
fi
