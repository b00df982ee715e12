#!/bin/bash
# test_compat_ours_lib.sh — ABI compatibility: test_compat_lib, built and
# linked against Debian's libxenstore.so.4, run with OUR libxenstore.so.4
# first on LD_LIBRARY_PATH (same soname, VERS_4.0 symbols).  It checks
# through dladdr that our library is the one in use.
XEN_ROOT=${XEN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
OURS=$XEN_ROOT/xenstore/libxenstore/libxenstore.so.4
if [ ! -e "$OURS" ]; then
    echo "1..0 # SKIP our libxenstore.so.4 is not built ($OURS)"
    exit 77
fi
export XEN_ROOT
exec env LD_LIBRARY_PATH="$XEN_ROOT/xenstore/libxenstore" XS_EXPECT_LIB="$OURS" \
    "$XEN_ROOT/tests/xenstore/test_compat_lib"
