/*
 * test_xs_escape.c — the CLI tools' value escaping (xenstore/tools/
 * xs_escape.c): the exact escapes of Xen's tools, a round trip of every
 * byte value, and the odd inputs (lone or unknown escapes).  Needs no
 * xenstored.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "xs_escape.h"

static void check_unescape(const char *in, const char *exp, size_t exp_len,
                           const char *name)
{
    char out[64];
    size_t len = 99;

    xs_unescape_value(in, out, &len);
    ok(len == exp_len && memcmp(out, exp, exp_len) == 0, "unescape %s", name);
}

int main(void)
{
    char all[256], *esc, *back;
    size_t i, len = 0;

    esc = xs_escape_value("a\tb\n\r\\\x01\x1b\x7f\xff ~", 12);
    is_str(esc, "a\\tb\\n\\r\\\\\\001\\x1b\\x7f\\xff ~", "escape table");
    free(esc);
    esc = xs_escape_value("", 0);
    is_str(esc, "", "escape empty");
    free(esc);

    for (i = 0; i < sizeof(all); i++)
        all[i] = (char)i;
    esc = xs_escape_value(all, sizeof(all));
    back = malloc(strlen(esc) + 1);
    xs_unescape_value(esc, back, &len);
    ok(len == sizeof(all) && memcmp(back, all, sizeof(all)) == 0,
       "every byte value survives escape + unescape");
    ok(strspn(esc, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTU"
                   "VWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") == strlen(esc),
       "escaped text is printable ASCII");
    free(esc);
    free(back);

    check_unescape("plain", "plain", 5, "plain text");
    check_unescape("\\t\\n\\r\\\\", "\t\n\r\\", 4, "named escapes");
    check_unescape("\\x41\\x4", "A\x04", 2, "hex: two digits, then one");
    check_unescape("\\xZ", "xZ", 2, "\\x without digits is x");
    check_unescape("\\101\\0", "A\0", 2, "octal: three digits, then one");
    check_unescape("\\q", "q", 1, "unknown escape is the character");
    check_unescape("ab\\", "ab\0", 3, "lone trailing backslash is a nul");
    return tap_done();
}
