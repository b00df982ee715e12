/*
 * test_xlcfg.c — unit tests of toolstack/libxlcfg against Xen's
 * docs/man/xl.cfg.5.pod.in, xl-disk-configuration.5, xl-network-
 * configuration.5 and xen-vbd-interface.7: good configs, every syntax
 * error with its file:line:column, each key's range, disk and vif specs,
 * command-line overrides, the JSON round trip, xlcfg-check's exit codes,
 * and 20000 random mutations of a good config (none may crash; run under
 * ASan/UBSan by `make -C tests/unit asan`).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xlcfg.h"
#include "tap.h"
#include "xlcfg_corpus.h"

#define SRC "t.cfg"
/* Two lines every typed test starts with; the key under test is line 3. */
#define BASE "name = 'g'\nkernel = '/k'\n"

static struct xlcfg *parse(const char *text, int *rc)
{
    struct xlcfg *cfg = xlcfg_new();

    *rc = xlcfg_parse_data(cfg, SRC, text, strlen(text));
    return cfg;
}

/* Print the diagnostics of @cfg as TAP comments (for failures). */
static void dump(const struct xlcfg *cfg)
{
    size_t i;

    for (i = 0; i < xlcfg_diag_count(cfg); i++)
        tap_diag("  diag: %s", xlcfg_diag(cfg, i));
}

/* has_diag: some diagnostic starts with @prefix. */
static bool has_diag(const struct xlcfg *cfg, const char *prefix)
{
    size_t i;

    for (i = 0; i < xlcfg_diag_count(cfg); i++)
        if (!strncmp(xlcfg_diag(cfg, i), prefix, strlen(prefix)))
            return true;
    return false;
}

/* build: parse + build; *@cfgp kept for inspection when non-NULL. */
static struct xlcfg_domain *build(const char *text, struct xlcfg **cfgp,
                                  int *rcp)
{
    struct xlcfg_domain *d = NULL;
    struct xlcfg *cfg;
    int rc;

    cfg = parse(text, &rc);
    if (!rc)
        rc = xlcfg_domain_build(cfg, &d);
    if (rcp)
        *rcp = rc;
    if (cfgp)
        *cfgp = cfg;
    else
        xlcfg_free(cfg);
    return d;
}

/* ---- syntax ---- */

static void test_syntax_good(void)
{
    struct xlcfg *cfg;
    const char *const *items;
    int rc;

    cfg = parse("# comment\n"
                "a = 1; b = 0x1f ;c='it'\n"
                "d = \"q\\\"\\\\\\t\\x41\\101\\n\"\n"
                "e = [ 'x', \"y\", 3, ]\n"
                "f = [\n  'p',\n\n  'q'\n  ,\n]\n"
                "g = []\n"
                "h = [ [ '1', '2' ], [] ]   # nested, as xl allows\n"
                "a = 2\n"
                "s = 'ab'\ns += 'cd'\n"
                "l = ['1']\nl += ['2', '3']\n"
                "n += 'new'\n"
                "last = 'no newline at end'",
                &rc);
    is_int(rc, 0, "good syntax parses");
    if (rc)
        dump(cfg);
    is_str(xlcfg_get_string(cfg, "a"), "2", "later assignment wins");
    is_str(xlcfg_get_string(cfg, "b"), "0x1f", "hex number kept as text");
    is_str(xlcfg_get_string(cfg, "c"), "it", "single-quoted string");
    is_str(xlcfg_get_string(cfg, "d"), "q\"\\\tAA\n", "escapes decoded");
    is_int(xlcfg_get_list(cfg, "e", &items), 3, "list with trailing comma");
    ok(items && !strcmp(items[0], "x") && !strcmp(items[1], "y") &&
           !strcmp(items[2], "3"),
       "list items in order");
    is_int(xlcfg_get_list(cfg, "f", NULL), 2, "multi-line list");
    is_int(xlcfg_get_list(cfg, "g", NULL), 0, "empty list");
    is_int(xlcfg_get_list(cfg, "h", &items), 2, "nested list");
    ok(items && items[0] == NULL, "nested list item is not a string");
    is_str(xlcfg_get_string(cfg, "s"), "abcd", "+= appends strings");
    is_int(xlcfg_get_list(cfg, "l", &items), 3, "+= appends lists");
    ok(items && !strcmp(items[0], "1") && !strcmp(items[2], "3"),
       "+= keeps old items first");
    is_str(xlcfg_get_string(cfg, "n"), "new", "+= on a new key sets it");
    is_str(xlcfg_get_string(cfg, "last"), "no newline at end",
           "last setting without newline");
    xlcfg_free(cfg);

    /* 'it''s' is two adjacent strings: xl rejects that too. */
    cfg = parse("c='it''s'\n", &rc);
    is_int(rc, -EINVAL, "adjacent strings are a syntax error");
    ok(has_diag(cfg, SRC ":1:7: error: unexpected string, expected ';' or "
                         "end of line"),
       "adjacent strings: line and column");
    xlcfg_free(cfg);
}

struct syntax_case {
    const char *text;
    const char *diag; /* exact first diagnostic */
};

static void test_syntax_errors(void)
{
    static const struct syntax_case cases[] = {
        {"name = \n",
         SRC ":1:8: error: unexpected end of line, expected a value (quoted "
             "string, number or '[')"},
        {"Name = 1\n", SRC ":1:1: error: unexpected 'N', expected a setting "
                           "name (setting names are lowercase)"},
        {"x 1\n", SRC ":1:3: error: unexpected number 1, expected '=' or '+='"},
        {"x = 'abc",
         SRC ":1:5: error: unterminated string, expected closing ' before "
             "end of file"},
        {"x = \"abc\ny = 1\n",
         SRC ":1:5: error: unterminated string, expected closing \" before "
             "end of line"},
        {"x = \"a\\qb\"\n",
         SRC ":1:7: error: unknown escape \\q in string, expected one of"},
        {"x = \"\\x4g\"\n",
         SRC ":1:6: error: bad \\x escape in string, expected two hex "
             "digits"},
        {"x = '\\0'\n", SRC ":1:6: error: NUL escape in string"},
        {"x = '\\777'\n", SRC ":1:6: error: octal escape above \\377"},
        {"x = [1, 2",
         SRC ":1:10: error: unexpected end of file, expected ',' or ']'"},
        {"x = [1 2]\n",
         SRC ":1:8: error: unexpected number 2, expected ',' or ']'"},
        {"x = [1,, 2]\n",
         SRC ":1:8: error: unexpected ',', expected a value (quoted string, "
             "number or '[')"},
        {"x = 1 2\n",
         SRC ":1:7: error: unexpected number 2, expected ';' or end of "
             "line"},
        {"= 1\n", SRC ":1:1: error: unexpected '=', expected a setting name"},
        {"x = (1)\n",
         SRC ":1:5: error: unexpected '(', expected a value (quoted string, "
             "number or '[') (the config looks like Python, which xl no "
             "longer accepts)"},
        {"x = 1\n\n  y = @\n",
         SRC ":3:7: error: unexpected '@', expected a value"},
        {"x = [\n 'a',\n 'b' 'c'\n]\n",
         SRC ":3:6: error: unexpected string, expected ',' or ']'"},
        {"x == 1\n",
         SRC ":1:4: error: unexpected '=', expected a value (quoted string, "
             "number or '[')"},
        {"x + 1\n", SRC ":1:3: error: unexpected '+'"},
        {"x = 'a'\nx += ['b']\n",
         SRC ":2:6: error: can't add a list to a string with +="},
        {"x = ['a']\nx += 'b'\n",
         SRC ":2:6: error: can't add a string to a list with +="},
        {"x = \x01\n", SRC ":1:5: error: unexpected byte 0x01"},
        {"x = [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]\n",
         SRC ":1:21: error: lists nested deeper than 16"},
        {"x = 0xFF\n", SRC ":1:7: error: unexpected 'F', expected ';' or "
                           "end of line"},
        {"1x = 2\n",
         SRC ":1:1: error: unexpected number 1x, expected a setting name"},
        {"x = 'a' ]\n",
         SRC ":1:9: error: unexpected ']', expected ';' or end of line"},
        {"x = ]\n",
         SRC ":1:5: error: unexpected ']', expected a value (quoted string, "
             "number or '[')"},
        {"x\n", SRC ":1:2: error: unexpected end of line, expected '=' or "
                    "'+='"},
        {"x = 'a\\\n", SRC ":1:7: error: unterminated string"},
    };
    struct xlcfg *cfg;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got;

        cfg = parse(cases[i].text, &rc);
        got = xlcfg_diag(cfg, 0);
        ok(rc == -EINVAL && got &&
               !strncmp(got, cases[i].diag, strlen(cases[i].diag)) &&
               xlcfg_error_count(cfg) >= 1,
           "syntax error %zu: %s", i, cases[i].diag);
        if (!got || strncmp(got, cases[i].diag, strlen(cases[i].diag)))
            dump(cfg);
        xlcfg_free(cfg);
    }

    /* Each bad line is reported once; good lines around them are kept. */
    cfg = parse("a = 1\nb = \nc = 3\nd = ] ]\ne = 'x' 'y' 'z'\nf = 6\n", &rc);
    is_int(rc, -EINVAL, "several errors: -EINVAL");
    is_int((long long)xlcfg_error_count(cfg), 3, "one error per bad line");
    ok(has_diag(cfg, SRC ":2:5: error:") && has_diag(cfg, SRC ":4:5: error:") &&
           has_diag(cfg, SRC ":5:9: error:"),
       "errors at 2:5, 4:5 and 5:9");
    ok(xlcfg_get_string(cfg, "a") && xlcfg_get_string(cfg, "c") &&
           xlcfg_get_string(cfg, "f") && !xlcfg_get_string(cfg, "b"),
       "good lines around errors are kept, bad ones dropped");
    xlcfg_free(cfg);

    {
        char many[60 * 5 + 1] = "";
        int k;

        for (k = 0; k < 60; k++)
            strcat(many, "x = \n");
        cfg = parse(many, &rc);
        ok(rc == -EINVAL && xlcfg_error_count(cfg) == 50,
           "parsing stops after 50 errors");
        xlcfg_free(cfg);
    }

    /* A NUL byte is data, not the end of the text. */
    cfg = xlcfg_new();
    rc = xlcfg_parse_data(cfg, SRC, "a = 1\nb = \0\nc = 3\n", 18);
    ok(rc == -EINVAL &&
           has_diag(cfg, SRC ":2:5: error: unexpected byte "
                             "0x00, expected a value") &&
           xlcfg_get_string(cfg, "c"),
       "NUL byte is an error at its position, parsing goes on");
    xlcfg_free(cfg);

    /* DOS line endings, as files edited elsewhere have. */
    cfg = parse("a = 1\r\nb = 'x'\r\n", &rc);
    ok(rc == 0 && xlcfg_get_string(cfg, "b") &&
           !strcmp(xlcfg_get_string(cfg, "b"), "x"),
       "CRLF line endings are accepted");
    xlcfg_free(cfg);

    cfg = xlcfg_new();
    rc = xlcfg_parse_file(cfg, "/");
    ok(rc == -EISDIR && has_diag(cfg, "/: error: cannot read"),
       "a directory is refused with its errno");
    xlcfg_free(cfg);

    {
        char big[] = "/tmp/xlcfg-big-XXXXXX";
        int fd = mkstemp(big);

        ok(fd >= 0 && ftruncate(fd, (1 << 20) + 1) == 0,
           "made a 1 MiB + 1 file");
        cfg = xlcfg_new();
        rc = xlcfg_parse_file(cfg, big);
        ok(rc == -EFBIG && xlcfg_error_count(cfg) == 1,
           "files above 1 MiB are refused");
        xlcfg_free(cfg);
        if (fd >= 0) {
            close(fd);
            unlink(big);
        }
    }

    cfg = xlcfg_new();
    rc = xlcfg_parse_file(cfg, "/nonexistent/xl.cfg");
    is_int(rc, -ENOENT, "missing file: -ENOENT");
    ok(has_diag(cfg, "/nonexistent/xl.cfg: error: cannot open: No such "
                     "file"),
       "missing file is named");
    xlcfg_free(cfg);
}

/* ---- typed config ---- */

static void test_minimal_defaults(void)
{
    struct xlcfg_domain *d;
    struct xlcfg *cfg;
    int rc;

    d = build(BASE, &cfg, &rc);
    is_int(rc, 0, "minimal config builds");
    if (!d) {
        dump(cfg);
        xlcfg_free(cfg);
        tap_skip(9, "no domain");
        return;
    }
    is_u64(d->target_memkb, 32 * 1024, "default memory 32 MiB (libxl)");
    is_u64(d->max_memkb, 32 * 1024, "maxmem defaults to memory");
    ok(d->vcpus == 1 && d->max_vcpus == 1, "default 1 vcpu");
    ok(d->on_poweroff == XLCFG_ACTION_DESTROY &&
           d->on_reboot == XLCFG_ACTION_RESTART &&
           d->on_crash == XLCFG_ACTION_DESTROY &&
           d->on_watchdog == XLCFG_ACTION_DESTROY,
       "xl's on_* defaults destroy/restart/destroy/destroy");
    ok(d->max_grant_frames == 32 && d->max_event_channels == 1023,
       "default max_grant_frames 32 (xen-hv's), max_event_channels 1023");
    ok((d->uuid[6] >> 4) == 4 && (d->uuid[8] & 0xc0) == 0x80,
       "generated uuid is a version 4 UUID");
    ok(!d->cmdline && !d->ramdisk && !d->cpumap_set, "no cmdline/ramdisk/cpus");
    ok(d->num_disks == 0 && d->num_nics == 0, "no devices");
    is_int((long long)xlcfg_diag_count(cfg), 0, "no diagnostics");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);
}

static void test_full_config(void)
{
    static const uint8_t uuid[16] = {0x3a, 0x0f, 0x5c, 0x1e, 0x7d, 0x2b,
                                     0x4c, 0x8e, 0x9f, 0x10, 0xa1, 0xb2,
                                     0xc3, 0xd4, 0xe5, 0xf6};
    static const uint8_t mac[6] = {0x00, 0x16, 0x3e, 0x74, 0x3d, 0x76};
    struct xlcfg_domain *d;
    struct xlcfg *cfg;
    int rc;

    d = build(full_cfg, &cfg, &rc);
    is_int(rc, 0, "xlexample-style config builds");
    if (!d) {
        dump(cfg);
        xlcfg_free(cfg);
        tap_skip(17, "no domain");
        return;
    }
    is_str(d->name, "example.pvh-1", "name");
    ok(!memcmp(d->uuid, uuid, 16), "uuid");
    is_str(d->kernel, "/boot/vmlinuz", "kernel");
    is_str(d->ramdisk, "/boot/initrd.gz", "ramdisk");
    is_str(d->cmdline, "root=/dev/xvda1 ro console=hvc0",
           "cmdline from root and extra");
    ok(d->target_memkb == 128 * 1024 && d->max_memkb == 256 * 1024,
       "memory 128 MiB, maxmem 256 MiB in KiB");
    ok(d->vcpus == 2 && d->max_vcpus == 4, "vcpus 2, maxvcpus 4");
    ok(d->cpumap_set && d->cpumap[0] == 0xb, "cpus 0-3,^2 = {0,1,3}");
    ok(d->on_poweroff == XLCFG_ACTION_DESTROY &&
           d->on_reboot == XLCFG_ACTION_RESTART_RENAME &&
           d->on_crash == XLCFG_ACTION_PRESERVE &&
           d->on_watchdog == XLCFG_ACTION_RESTART,
       "on_* actions");
    ok(d->max_grant_frames == 32 && d->max_event_channels == 256,
       "max_grant_frames 32, max_event_channels 0x100");
    is_int((long long)d->num_nics, 1, "one vif");
    ok(d->num_nics == 1 && !memcmp(d->nics[0].mac, mac, 6) &&
           !strcmp(d->nics[0].bridge, "xenbr1") &&
           !strcmp(d->nics[0].ip, "10.0.0.2") && d->nics[0].mtu == 9000 &&
           d->nics[0].rate_bytes_per_interval == 62500 &&
           d->nics[0].rate_interval_usecs == 50000,
       "vif fields (10Mb/s = 62500 bytes per 50 ms)");
    is_int((long long)d->num_disks, 3, "three disks");
    ok(d->num_disks == 3 &&
           !strcmp(d->disks[0].pdev_path, "/dev/vg/guest-volume") &&
           d->disks[0].devid == 51712 && d->disks[0].readwrite &&
           d->disks[0].format == XLCFG_FORMAT_RAW,
       "disk 0: positional form, xvda = 51712");
    ok(d->num_disks == 3 && !strcmp(d->disks[1].pdev_path, "/srv/data.img") &&
           d->disks[1].devid == 51728 && !d->disks[1].readwrite,
       "disk 1: legacy file: form, read-only xvdb");
    ok(d->num_disks == 3 && d->disks[2].is_cdrom && !d->disks[2].pdev_path &&
           d->disks[2].format == XLCFG_FORMAT_EMPTY &&
           d->disks[2].devid == 5632 && !d->disks[2].readwrite,
       "disk 2: empty cdrom hdc = 5632");
    is_int((long long)xlcfg_diag_count(cfg), 0, "no diagnostics");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);
}

static void test_cmdline(void)
{
    static const struct {
        const char *text, *cmdline;
    } cases[] = {
        {BASE "root='/dev/xvda'\n", "root=/dev/xvda"},
        {BASE "extra='quiet'\n", "quiet"},
        {BASE "extra='a'\nroot='r'\n", "root=r a"},
        {BASE "cmdline='c'\n", "c"},
        {BASE "cmdline='c'\nroot='r'\n", "c"},
    };
    struct xlcfg_domain *d;
    struct xlcfg *cfg;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        d = build(cases[i].text, &cfg, NULL);
        is_str(d ? d->cmdline : "(failed)", cases[i].cmdline, cases[i].cmdline);
        xlcfg_domain_free(d);
        if (i == 4)
            ok(has_diag(cfg, SRC ":3: warning: ignoring root= and extra= in "
                                 "favour of cmdline="),
               "cmdline with root/extra warns as xl");
        xlcfg_free(cfg);
    }
}

struct key_case {
    const char *line; /* line 3 of the config */
    const char *diag; /* expected diagnostic prefix, NULL when valid */
};

static void test_keys(void)
{
    static const struct key_case cases[] = {
        {"memory = 3", SRC ":3: error: memory = 3 is out of range (4..65536 "
                           "MiB)"},
        {"memory = 4", NULL},
        {"memory = 65536", NULL},
        {"memory = 65537", SRC ":3: error: memory = 65537 is out of range"},
        {"memory = '512'", NULL},
        {"memory = 010", NULL},
        {"memory = 'lots'", SRC ":3: error: memory 'lots' is not a number"},
        {"memory = -1", SRC ":3:10: error: unexpected '-', expected a value"},
        {"memory = '-1'", SRC ":3: error: memory = -1 is out of range"},
        {"memory = 99999999999999999999",
         SRC ":3: error: memory = 99999999999999999999 is out of range"},
        {"memory = 0x10g", SRC ":3:14: error: unexpected name 'g', expected "
                               "';' or end of line"},
        {"memory = [1]", SRC ":3: error: memory must be a single value, not "
                             "a list"},
        {"memory = 64\nmemory += 1", SRC ":4: error: can't use += with the "
                                         "number memory"},
        {"memory = 64\nmaxmem = 32",
         SRC ":4: error: maxmem (32 MiB) is below memory (64 MiB)"},
        {"maxmem = 65537", SRC ":3: error: maxmem = 65537 is out of range"},
        {"vcpus = 0", SRC ":3: error: vcpus = 0 is out of range (1..128)"},
        {"vcpus = 128", NULL},
        {"vcpus = 129", SRC ":3: error: vcpus = 129 is out of range"},
        {"vcpus = 4\nmaxvcpus = 2",
         SRC ":4: error: maxvcpus (2) is below vcpus (4)"},
        {"maxvcpus = 129", SRC ":3: error: maxvcpus = 129 is out of range"},
        {"name = 'a b'", SRC ":3: error: name 'a b' is invalid"},
        {"name = ''", SRC ":3: error: name '' is invalid"},
        {"name = "
         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
         NULL},
        {"name = "
         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
         SRC ":3: error: name 'aaaa"},
        {"name = 'A-z_0.9'", NULL},
        {"name = 'x/y'", SRC ":3: error: name 'x/y' is invalid"},
        {"uuid = '3a0f5c1e-7d2b-4c8e-9f10-a1b2c3d4e5f'",
         SRC ":3: error: uuid '3a0f5c1e-7d2b-4c8e-9f10-a1b2c3d4e5f' is "
             "invalid"},
        {"uuid = '3a0f5c1e07d2b-4c8e-9f10-a1b2c3d4e5f6'",
         SRC ":3: error: uuid"},
        {"uuid = '3A0F5C1E-7D2B-4C8E-9F10-A1B2C3D4E5F6'", NULL},
        {"uuid = '3a0f5c1e-7d2b-4c8e-9f10-a1b2c3d4e5f6x'",
         SRC ":3: error: uuid"},
        {"type = 'pv'", SRC ":3: error: type \"pv\" is not supported: xen-hv "
                            "runs PVH domains only"},
        {"type = 'hvm'", SRC ":3: error: type \"hvm\" is not supported"},
        {"type = 'pvhx'", SRC ":3: error: unknown type \"pvhx\""},
        {"builder = 'hvm'", SRC ":3: error: builder \"hvm\" is not "
                                "supported"},
        {"kernel = ''", SRC ":3: error: kernel must not be empty"},
        {"ramdisk = ''", SRC ":3: error: ramdisk must not be empty"},
        {"on_poweroff = 'bogus'", SRC ":3: error: on_poweroff = \"bogus\" is "
                                      "unknown"},
        {"on_crash = 'coredump-destroy'",
         SRC ":3: error: on_crash = \"coredump-destroy\" is not supported"},
        {"on_reboot = 'soft-reset'", SRC ":3: error: on_reboot"},
        {"on_watchdog = 'preserve'", NULL},
        {"max_grant_frames = 0", SRC ":3: error: max_grant_frames = 0 is out "
                                     "of range (1..64)"},
        {"max_grant_frames = 64", NULL},
        {"max_grant_frames = 65", SRC ":3: error: max_grant_frames"},
        {"max_event_channels = 0", SRC ":3: error: max_event_channels = 0 is "
                                       "out of range (1..4096)"},
        {"max_event_channels = 4097", SRC ":3: error: max_event_channels"},
        {"max_event_channels = 4096", NULL},
        {"cpus = 'nodes:0'", SRC ":3: error: cpus 'nodes:0': NUMA node lists "
                                 "are not supported"},
        {"cpus = '5-2'", SRC ":3: error: bad cpus '5-2'"},
        {"cpus = '1024'", SRC ":3: error: bad cpus '1024'"},
        {"cpus = '1023'", NULL},
        {"cpus = '0,,1'", SRC ":3: error: bad cpus '0,,1'"},
        {"cpus = '^1'", SRC ":3: error: cpus '^1' selects no CPU"},
        {"cpus = 'all,^7'", NULL},
        {"cpus = ['0', '1']", SRC ":3: error: per-vCPU cpus lists are not "
                                  "supported"},
        {"disk = 'xvda'", SRC ":3: error: disk must be a list"},
        {"disk = [['a']]", SRC ":3: error: disk[0] must be a string"},
        {"disk = ['/a,,xvda', '/b,,xvda']",
         SRC ":3: error: disk[1] '/b,,xvda': vdev xvda is already used"},
        {"disk = ['/a,,xvda', '/b,,d0p0']",
         SRC ":3: error: disk[1] '/b,,d0p0': vdev d0p0 is already used"},
        {"disk = ['/a,,xvdzzz']", SRC ":3: error: disk[0] '/a,,xvdzzz': bad "
                                      "vdev"},
        {"vif = ['mac=00:16:3e:00:00:01', 'mac=00:16:3E:00:00:01']",
         SRC ":3: error: vif[1] 'mac=00:16:3E:00:00:01': mac is already "
             "used"},
        {"vif = ['bogus=1']", SRC ":3: error: vif[0] 'bogus=1': unknown vif "
                                  "parameter 'bogus'"},
        {"vif = 'bridge=xenbr0'", SRC ":3: error: vif must be a list"},
        {"foo = 1", SRC ":3: warning: unknown or unsupported setting 'foo' "
                        "ignored"},
    };
    struct xlcfg_domain *d;
    struct xlcfg *cfg;
    char text[512];
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool warn = cases[i].diag && strstr(cases[i].diag, "warning");
        bool want_ok = !cases[i].diag || warn;
        char name[160], *nl;

        /* A TAP description is one line. */
        snprintf(name, sizeof(name), "%s", cases[i].line);
        while ((nl = strchr(name, '\n')))
            *nl = '|';

        snprintf(text, sizeof(text), "%s%s\n",
                 strncmp(cases[i].line, "kernel", 6) ? BASE : "name='g'\n\n",
                 cases[i].line);
        d = build(text, &cfg, &rc);
        if (want_ok)
            ok(rc == 0 && d && (!warn || has_diag(cfg, cases[i].diag)),
               "valid: %s", name);
        else
            ok(rc == -EINVAL && !d && has_diag(cfg, cases[i].diag), "%s -> %s",
               name, cases[i].diag);
        if ((want_ok && rc) || (cases[i].diag && !has_diag(cfg, cases[i].diag)))
            dump(cfg);
        xlcfg_domain_free(d);
        xlcfg_free(cfg);
    }

    /* Missing required keys name the file, without a line. */
    d = build("memory = 64\n", &cfg, &rc);
    ok(rc == -EINVAL && has_diag(cfg, SRC ": error: name is required") &&
           has_diag(cfg, SRC ": error: kernel is required"),
       "name and kernel are required");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);

    /* Every bad key is reported in one run. */
    d = build(BASE "memory = 1\nvcpus = 0\non_crash = 'x'\n", &cfg, &rc);
    is_int((long long)xlcfg_error_count(cfg), 3, "all key errors at once");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);

    /* An unknown key set twice is warned about once. */
    d = build(BASE "foo = 1\nfoo = 2\nbar = 3\n", &cfg, &rc);
    ok(rc == 0 && xlcfg_diag_count(cfg) == 2 &&
           has_diag(cfg, SRC ":4: warning: unknown or unsupported setting "
                             "'foo'") &&
           has_diag(cfg, SRC ":5: warning: unknown or unsupported setting "
                             "'bar'"),
       "unknown keys: one warning each");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);

    d = build(BASE "kernel = '/k\xff'\ndisk = ['/\xc0\xaf,,xvda']\n", &cfg,
              &rc);
    ok(rc == -EINVAL &&
           has_diag(cfg, SRC ":3: error: kernel is not valid "
                             "UTF-8") &&
           has_diag(cfg, SRC ":4: error: disk[0] is not valid UTF-8"),
       "strings that are not UTF-8 (JSON cannot carry them) are refused");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);

    d = build(BASE "kernel = '/k\xc3\xa9'\n", NULL, &rc);
    ok(rc == 0 && d, "UTF-8 strings are accepted");
    xlcfg_domain_free(d);

    d = build(BASE "cpus = 'all'\n", NULL, &rc);
    ok(d && !d->cpumap_set, "cpus = all is no pinning");
    xlcfg_domain_free(d);
    d = build(BASE "cpus = 'all,^7'\n", NULL, &rc);
    ok(d && d->cpumap_set && d->cpumap[0] == ~(1ull << 7) &&
           d->cpumap[15] == ~0ull,
       "cpus all,^7");
    xlcfg_domain_free(d);
    d = build(BASE "memory = 010\n", NULL, &rc);
    ok(d && d->target_memkb == 8 * 1024, "memory 010 is octal 8, as xl");
    xlcfg_domain_free(d);
}

/* ---- disks ---- */

struct disk_case {
    const char *spec;
    const char *pdev;
    const char *vdev;
    uint32_t devid;
    enum xlcfg_disk_format format;
    bool rw, cdrom;
};

static void test_disks(void)
{
    static const struct disk_case good[] = {
        /* xl-disk-configuration.5: "these strings are equivalent" */
        {"/dev/vg/guest-volume,,hda", "/dev/vg/guest-volume", "hda", 768,
         XLCFG_FORMAT_RAW, true, false},
        {"/dev/vg/guest-volume,raw,hda,rw", "/dev/vg/guest-volume", "hda", 768,
         XLCFG_FORMAT_RAW, true, false},
        {"format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
         "/dev/vg/guest-volume", "hda", 768, XLCFG_FORMAT_RAW, true, false},
        {"raw:/dev/vg/guest-volume,hda,w", "/dev/vg/guest-volume", "hda", 768,
         XLCFG_FORMAT_RAW, true, false},
        /* "As are these" */
        {"/root/image.iso,,hdc,cdrom", "/root/image.iso", "hdc", 5632,
         XLCFG_FORMAT_RAW, false, true},
        {"/root/image.iso,,hdc,,cdrom", "/root/image.iso", "hdc", 5632,
         XLCFG_FORMAT_RAW, false, true},
        {"/root/image.iso,raw,hdc,devtype=cdrom", "/root/image.iso", "hdc",
         5632, XLCFG_FORMAT_RAW, false, true},
        {"format=raw, vdev=hdc, access=ro, devtype=cdrom, "
         "target=/root/image.iso",
         "/root/image.iso", "hdc", 5632, XLCFG_FORMAT_RAW, false, true},
        {"raw:/root/image.iso,hdc:cdrom,ro", "/root/image.iso", "hdc", 5632,
         XLCFG_FORMAT_RAW, false, true},
        {",hdc:cdrom,r", NULL, "hdc", 5632, XLCFG_FORMAT_EMPTY, false, true},
        {"file:/img,xvda,w", "/img", "xvda", 51712, XLCFG_FORMAT_RAW, true,
         false},
        {"phy:/dev/sdb,xvdb1,r", "/dev/sdb", "xvdb1", 51729, XLCFG_FORMAT_RAW,
         false, false},
        {"tap:aio:/img,xvdc,w", "/img", "xvdc", 51744, XLCFG_FORMAT_RAW, true,
         false},
        {"qcow2:/img.q,xvdd,w", "/img.q", "xvdd", 51760, XLCFG_FORMAT_QCOW2,
         true, false},
        {"/img,qcow2,xvde", "/img", "xvde", 51776, XLCFG_FORMAT_QCOW2, true,
         false},
        {"/img,vhd,xvdf,ro", "/img", "xvdf", 51792, XLCFG_FORMAT_VHD, false,
         false},
        {"vdev=xvdq, target=/x", "/x", "xvdq", (1u << 28) | (16 << 8),
         XLCFG_FORMAT_RAW, true, false},
        {"target=/a, b,c", "/a, b,c", NULL, 0, 0, 0, 0}, /* no vdev: bad */
        {"/x,,xvdzz", "/x", "xvdzz", (1u << 28) | (701 << 8), XLCFG_FORMAT_RAW,
         true, false},
        {"/x,,xvda16", "/x", "xvda16", (1u << 28) | 16, XLCFG_FORMAT_RAW, true,
         false},
        {"/x,,xvda15", "/x", "xvda15", 51712 + 15, XLCFG_FORMAT_RAW, true,
         false},
        {"/x,,hdb", "/x", "hdb", (3 << 8) | (1 << 6), XLCFG_FORMAT_RAW, true,
         false},
        {"/x,,hdd63", "/x", "hdd63", (22 << 8) | (1 << 6) | 63,
         XLCFG_FORMAT_RAW, true, false},
        {"/x,,sda", "/x", "sda", 8 << 8, XLCFG_FORMAT_RAW, true, false},
        {"/x,,sdp15", "/x", "sdp15", (8 << 8) | (15 << 4) | 15,
         XLCFG_FORMAT_RAW, true, false},
        {"/x,,d1p2", "/x", "d1p2", 51712 + 16 + 2, XLCFG_FORMAT_RAW, true,
         false},
        {"/x,,d536p37", "/x", "d536p37", (1u << 28) | (536 << 8) | 37,
         XLCFG_FORMAT_RAW, true, false},
        {"/x,,51712", "/x", "51712", 51712, XLCFG_FORMAT_RAW, true, false},
        {"/x,,0xca10", "/x", "0xca10", 51728, XLCFG_FORMAT_RAW, true, false},
        {"  /x , ,xvda", "/x ", "xvda", 51712, XLCFG_FORMAT_RAW, true, false},
        {"/x,,xvda,w,", "/x", "xvda", 51712, XLCFG_FORMAT_RAW, true, false},
        {"backendtype=phy,script=block-x,backend=dd,/x,,xvda,discard,"
         "direct-io-safe,untrusted",
         "/x", "xvda", 51712, XLCFG_FORMAT_RAW, true, false},
    };
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"/x", "no vdev specified"},
        {"/x,,", "no vdev specified"},
        {"vdev=xvda", "no target specified"},
        {"/x,,xvd", "bad vdev 'xvd'"},
        {"/x,,hde", "bad vdev 'hde'"},
        {"/x,,sdq", "bad vdev 'sdq'"},
        {"/x,,hda64", "bad vdev 'hda64'"},
        {"/x,,xvda256", "bad vdev 'xvda256'"},
        {"/x,,xvda01", "bad vdev 'xvda01'"},
        {"/x,,xvd1", "bad vdev 'xvd1'"},
        {"/x,,0", "bad vdev '0'"},
        {"/x,,foo", "bad vdev 'foo'"},
        {"/x,,d1048576", "bad vdev 'd1048576'"},
        {"/x,bogus,xvda", "unknown format 'bogus'"},
        {"/x,,xvda,rx", "unknown access 'rx'"},
        {"/x,,xvda,w,extra", "too many positional parameters at 'extra'"},
        {"/x,,xvda,devtype=floppy", "unknown devtype 'floppy'"},
        {"/x,,xvda,backendtype=qemu", "unknown backendtype 'qemu'"},
        {"/x,,xvda,color=red", "unknown disk parameter 'color'"},
        {"/x,,xvda,vdev=xvdb", "vdev respecified"},
        {"/x,raw,xvda,format=qcow2", "format respecified"},
        {"bogus:/x,xvda,w", "unknown deprecated disk prefix 'bogus:'"},
        {"/x,,xvda,specification=virtio", "specification 'virtio' not "
                                          "supported"},
        {"/x,,hdc:floppy", "unknown devtype 'floppy'"},
    };
    struct xlcfg_disk k;
    char *why = NULL;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct disk_case *c = &good[i];

        rc = xlcfg_disk_parse(c->spec, &k, &why);
        if (!c->vdev) {
            ok(rc == -EINVAL && why && strstr(why, "no vdev"),
               "disk '%s': target= eats the rest, so no vdev", c->spec);
        } else {
            ok(rc == 0 &&
                   !(c->pdev ? !k.pdev_path || strcmp(k.pdev_path, c->pdev)
                             : k.pdev_path != NULL) &&
                   !strcmp(k.vdev, c->vdev) && k.devid == c->devid &&
                   k.format == c->format && k.readwrite == c->rw &&
                   k.is_cdrom == c->cdrom,
               "disk '%s' -> %s %s %#x", c->spec, c->pdev ? c->pdev : "-",
               c->vdev, c->devid);
        }
        if (rc == 0 && i == sizeof(good) / sizeof(good[0]) - 1)
            ok(k.backend == XLCFG_BACKEND_PHY && !strcmp(k.script, "block-x") &&
                   !strcmp(k.backend_domname, "dd") && k.direct_io_safe &&
                   k.discard_enable == XLCFG_TRUE && k.trusted == XLCFG_FALSE,
               "disk keyword flags: backendtype, script, backend, "
               "direct-io-safe, discard, untrusted");
        if (rc && c->vdev)
            tap_diag("  why: %s", why ? why : "(none)");
        free(why);
        why = NULL;
        xlcfg_disk_clear(&k);
    }
    rc = xlcfg_disk_parse("nbd:host:1234,xvda,w", &k, &why);
    ok(rc == 0 && k.script && !strcmp(k.script, "block-nbd") &&
           !strcmp(k.pdev_path, "host:1234"),
       "deprecated nbd: prefix sets script block-nbd");
    free(why);
    why = NULL;
    xlcfg_disk_clear(&k);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = xlcfg_disk_parse(bad[i].spec, &k, &why);
        ok(rc == -EINVAL && why && strstr(why, bad[i].why) && !k.vdev &&
               !k.pdev_path,
           "bad disk '%s': %s", bad[i].spec, bad[i].why);
        if (!why || !strstr(why, bad[i].why))
            tap_diag("  why: %s", why ? why : "(none)");
        free(why);
        why = NULL;
        xlcfg_disk_clear(&k);
    }
}

/* ---- vifs ---- */

static void test_vifs(void)
{
    static const struct {
        const char *spec;
        uint64_t bytes;
        uint32_t usecs;
    } rates[] = {
        {"rate=10Mb/s", 62500, 50000},     {"rate=250KB/s", 12500, 50000},
        {"rate=1MB/s@20ms", 20000, 20000}, {"rate=100B/s@1s", 100, 1000000},
        {"rate=1Gb/s@100us", 12500, 100},  {"rate=8b/s@1s", 1, 1000000},
        {"rate=1GB/s", 50000000, 50000},
    };
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"mac=00:16:3e:00:00", "bad or repeated vif mac"},
        {"mac=00:16:3e:00:00:0g", "bad or repeated vif mac"},
        {"mac=00-16-3e-00-00-01", "bad or repeated vif mac"},
        {"mac=01:16:3e:00:00:01", "is a multicast address"},
        {"mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02", "bad or repeated"},
        {"mtu=67", "bad or repeated vif mtu '67'"},
        {"mtu=65536", "bad or repeated vif mtu"},
        {"mtu=15x", "bad or repeated vif mtu"},
        {"mtu=-1500", "bad or repeated vif mtu"},
        {"rate=10Mb", "bad rate '10Mb'"},
        {"rate=10/s", "bad rate"},
        {"rate=MB/s", "bad rate"},
        {"rate=1MB/s@20", "bad rate"},
        {"rate=1MB/s@20ns", "bad rate"},
        {"rate=0MB/s", "out of range"},
        {"rate=1b/s@1us", "out of range"},
        {"rate=99999999999999999999B/s", "bad rate"},
        {"rate=1MB/s@5000s", "out of range"},
        {"ip=10.0.0.300", "bad or repeated vif ip"},
        {"ip=", "bad or repeated vif ip"},
        {"vifname=averyveryverylongname", "bad or repeated vif vifname"},
        {"bridge=br/0", "bad or repeated vif bridge"},
        {"type=bogus", "bad or repeated vif type"},
        {"backend=a b", "bad or repeated vif backend"},
        {"model=", "empty vif model"},
        {"bridge=a,bridge=b", "vif bridge respecified"},
        {"accel", "unknown vif flag 'accel'"},
        {"colour=blue", "unknown vif parameter 'colour'"},
    };
    struct xlcfg_nic n, n2;
    char *why = NULL;
    size_t i;
    int rc;

    rc = xlcfg_nic_parse("mac=00:16:3E:74:3d:76,model=rtl8139,bridge=xenbr0", 0,
                         &n, &why);
    ok(rc == 0 && n.mac[3] == 0x74 && n.mac[5] == 0x76 &&
           !strcmp(n.model, "rtl8139") && !strcmp(n.bridge, "xenbr0"),
       "vif example from xl-network-configuration.5");
    xlcfg_nic_clear(&n);
    rc = xlcfg_nic_parse(" ip=10.0.0.1 fe80::1, type=vif, vifname=vif-g0,"
                         "script=vif-route,backend=drv.dom,gatewaydev=eth0,"
                         "mtu=1400",
                         3, &n, &why);
    ok(rc == 0 && n.devid == 3 && !strcmp(n.ip, "10.0.0.1 fe80::1") &&
           n.nictype == XLCFG_NIC_VIF && !strcmp(n.ifname, "vif-g0") &&
           !strcmp(n.script, "vif-route") &&
           !strcmp(n.backend_domname, "drv.dom") &&
           !strcmp(n.gatewaydev, "eth0") && n.mtu == 1400,
       "vif ip, type, vifname, script, backend, gatewaydev, mtu");
    xlcfg_nic_clear(&n);
    rc = xlcfg_nic_parse("type=ioemu", 0, &n, &why);
    ok(rc == 0 && n.nictype == XLCFG_NIC_VIF_IOEMU, "vif type=ioemu");
    xlcfg_nic_clear(&n);
    rc = xlcfg_nic_parse("", 0, &n, &why);
    rc |= xlcfg_nic_parse(",,", 1, &n2, &why);
    ok(rc == 0 && n.mac[0] == 0 && n.mac[1] == 0x16 && n.mac[2] == 0x3e &&
           n2.mac[0] == 0 && n2.mac[1] == 0x16 && n2.mac[2] == 0x3e &&
           !n.bridge && !n.mtu && !n.rate_interval_usecs,
       "empty vif: random mac in Xen's OUI 00:16:3e, defaults");
    ok(memcmp(n.mac, n2.mac, 6) != 0, "two random macs differ");
    xlcfg_nic_clear(&n);
    xlcfg_nic_clear(&n2);
    for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        rc = xlcfg_nic_parse(rates[i].spec, 0, &n, &why);
        ok(rc == 0 && n.rate_bytes_per_interval == rates[i].bytes &&
               n.rate_interval_usecs == rates[i].usecs,
           "%s = %llu bytes per %u us", rates[i].spec,
           (unsigned long long)rates[i].bytes, rates[i].usecs);
        if (rc)
            tap_diag("  why: %s", why);
        free(why);
        why = NULL;
        xlcfg_nic_clear(&n);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = xlcfg_nic_parse(bad[i].spec, 0, &n, &why);
        ok(rc == -EINVAL && why && strstr(why, bad[i].why) && !n.bridge,
           "bad vif '%s': %s", bad[i].spec, bad[i].why);
        if (!why || !strstr(why, bad[i].why))
            tap_diag("  why: %s", why ? why : "(none)");
        free(why);
        why = NULL;
        xlcfg_nic_clear(&n);
    }
}

/* ---- overrides ---- */

static void test_overrides(void)
{
    struct xlcfg_domain *d = NULL;
    struct xlcfg *cfg;
    int rc;

    cfg = parse(BASE "memory = 512\ndisk = ['/a,,xvda']\nextra = 'a'\n", &rc);
    rc |= xlcfg_parse_override(cfg, "memory=1024", 1);
    rc |= xlcfg_parse_override(cfg, "disk+=['/b,,xvdb']", 2);
    rc |= xlcfg_parse_override(cfg, "extra += \" b\"; vcpus=2", 3);
    is_int(rc, 0, "overrides parse");
    if (!rc)
        rc = xlcfg_domain_build(cfg, &d);
    ok(rc == 0 && d && d->target_memkb == 1024 * 1024,
       "memory=1024 overrides the file's 512");
    ok(d && d->num_disks == 2 && !strcmp(d->disks[1].vdev, "xvdb"),
       "disk+= appends to the file's list");
    ok(d && !strcmp(d->cmdline, "a b") && d->vcpus == 2,
       "string += and ';' in an override");
    xlcfg_domain_free(d);
    xlcfg_free(cfg);

    cfg = parse(BASE, &rc);
    rc = xlcfg_parse_override(cfg, "memory=", 2);
    ok(rc == -EINVAL && has_diag(cfg, "<command line>:2:8: error: unexpected "
                                      "end of file, expected a value"),
       "override syntax error names <command line>:ARG:COL");
    rc = xlcfg_parse_override(cfg, "memory=1\nname='x'", 3);
    ok(rc == -EINVAL && has_diag(cfg, "<command line>:3: error: newline in "
                                      "override"),
       "newline in an override is refused");
    xlcfg_free(cfg);

    cfg = parse(BASE, &rc);
    rc = xlcfg_parse_override(cfg, "memory=2", 1);
    rc = rc ? rc : xlcfg_domain_build(cfg, &d);
    ok(rc == -EINVAL && has_diag(cfg, "<command line>:1: error: memory = 2 is "
                                      "out of range"),
       "range errors of an override name its argument");
    xlcfg_free(cfg);
}

/* ---- JSON ---- */

static void test_json(void)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"c_info\": 1}",
        "{\"c_info\": {\"name\": \"g\"}}",
        "{\"c_info\": {\"name\": \"g\", \"uuid\": "
        "\"3a0f5c1e-7d2b-4c8e-9f10-a1b2c3d4e5f6\", \"type\": \"pv\"}}",
    };
    struct xlcfg_domain *d, *d2 = NULL;
    char *json = NULL, *json2 = NULL, *err = NULL, *mut;
    size_t i;
    int rc;

    d = build(full_cfg, NULL, &rc);
    if (!d) {
        tap_skip(12, "full config did not build");
        return;
    }
    rc = xlcfg_domain_to_json(d, &json);
    is_int(rc, 0, "encode");
    ok(json && strstr(json, "\"c_info\"") && strstr(json, "\"b_info\"") &&
           strstr(json, "\"target_memkb\": 131072") &&
           strstr(json, "\"on_reboot\": \"restart_rename\"") &&
           strstr(json, "\"vdev\": \"xvda\"") &&
           strstr(json, "\"mac\": \"00:16:3e:74:3d:76\""),
       "JSON uses libxl's names and values");
    rc = xlcfg_domain_from_json(json, &d2, &err);
    is_int(rc, 0, "decode what was encoded");
    if (rc)
        tap_diag("  err: %s", err);
    ok(d2 && xlcfg_domain_equal(d, d2), "round trip: encode -> decode -> "
                                        "equal");
    rc = d2 ? xlcfg_domain_to_json(d2, &json2) : -1;
    ok(rc == 0 && !strcmp(json, json2), "re-encoding gives the same text");
    if (d2) {
        d2->nics[0].mac[5] ^= 1;
        ok(!xlcfg_domain_equal(d, d2), "equal sees a changed mac");
        d2->nics[0].mac[5] ^= 1;
        d2->disks[2].is_cdrom = false;
        ok(!xlcfg_domain_equal(d, d2), "equal sees a changed disk flag");
    } else {
        tap_skip(2, "no decoded domain");
    }
    xlcfg_domain_free(d2);
    d2 = NULL;
    free(err);
    err = NULL;

    /* The encoder refuses a hand-made struct that is not valid. */
    free(json2);
    json2 = NULL;
    d->vcpus = d->max_vcpus + 1;
    rc = xlcfg_domain_to_json(d, &json2);
    is_int(rc, -EINVAL, "encode refuses vcpus above max_vcpus");
    d->vcpus = 2;
    free(d->kernel);
    d->kernel = strdup("/k\xff");
    rc = xlcfg_domain_to_json(d, &json2);
    is_int(rc, -EINVAL, "encode refuses a string that is not UTF-8");
    free(d->kernel);
    d->kernel = strdup("/boot/vmlinuz");

    /* The decoder validates as the parser does. */
    mut = strdup(json);
    memcpy(strstr(mut, "131072"), "  1024", 6);
    rc = xlcfg_domain_from_json(mut, &d2, &err);
    ok(rc == -EINVAL && !d2 && err && strstr(err, "target_memkb"),
       "decode refuses memory out of range");
    free(err);
    err = NULL;
    free(mut);
    mut = strdup(json);
    memcpy(strstr(mut, "51712"), "51713", 5);
    rc = xlcfg_domain_from_json(mut, &d2, &err);
    ok(rc == -EINVAL && err && strstr(err, "devid"),
       "decode refuses a devid that does not match its vdev");
    free(err);
    err = NULL;
    free(mut);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = xlcfg_domain_from_json(bad[i], &d2, &err);
        ok(rc == -EINVAL && !d2 && err, "bad JSON %zu refused: %s", i,
           err ? err : "(no message)");
        free(err);
        err = NULL;
    }
    {
        size_t deep = 1000000;
        char *nest = malloc(deep + 1);

        memset(nest, '[', deep);
        nest[deep] = '\0';
        rc = xlcfg_domain_from_json(nest, &d2, &err);
        ok(rc == -EINVAL && err && strstr(err, "nested deeper"),
           "a million '[' are refused before yajl builds a tree");
        free(err);
        err = NULL;
        free(nest);
    }
    rc = xlcfg_domain_from_json(
        "{\"c_info\": {\"name\": \"g\", \"uuid\": "
        "\"3a0f5c1e-7d2b-4c8e-9f10-a1b2c3d4e5f6\"}, \"b_info\": "
        "{\"max_vcpus\": 1, \"avail_vcpus\": [0], \"max_memkb\": 4096, "
        "\"target_memkb\": 4096, \"kernel\": \"/k\"}}",
        &d2, &err);
    ok(rc == 0 && d2 && d2->on_reboot == XLCFG_ACTION_RESTART &&
           d2->max_grant_frames == 32 && d2->num_disks == 0,
       "minimal JSON decodes with defaults");
    xlcfg_domain_free(d2);
    free(err);
    free(json);
    free(json2);
    xlcfg_domain_free(d);
}

/* ---- xlcfg-check ---- */

static int run_check(const char *args)
{
    char cmd[1024];
    int st;

    snprintf(cmd, sizeof(cmd),
             "%s/toolstack/xlcfg-check %s >/dev/null "
             "2>&1",
             XEN_ROOT, args);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * check_cli_json: xlcfg-check's stdout for config @path (with an override)
 * decodes to what the library builds from the same input.
 */
static void check_cli_json(const char *bin, const char *path)
{
    struct xlcfg_domain *want = NULL, *got = NULL;
    char cmd[1200], *out = NULL, *err = NULL;
    size_t n = 0, cap = 1 << 16;
    struct xlcfg *cfg;
    FILE *p;
    int rc;

    snprintf(cmd, sizeof(cmd), "%s %s vcpus=3 2>/dev/null", bin, path);
    p = popen(cmd, "r");
    out = calloc(1, cap);
    if (p && out)
        n = fread(out, 1, cap - 1, p);
    rc = p ? pclose(p) : -1;
    ok(rc == 0 && n > 0 && out[n - 1] == '\n',
       "xlcfg-check prints JSON ending in a newline");
    rc = out ? xlcfg_domain_from_json(out, &got, &err) : -1;
    cfg = parse(full_cfg, &rc);
    rc |= xlcfg_parse_override(cfg, "vcpus=3", 1);
    rc |= xlcfg_domain_build(cfg, &want);
    /* The one random part, the vif's MAC, is given in full_cfg. */
    ok(rc == 0 && got && want && xlcfg_domain_equal(got, want) &&
           got->vcpus == 3,
       "xlcfg-check's JSON decodes to the library's domain");
    if (err)
        tap_diag("  decode: %s", err);
    xlcfg_free(cfg);
    xlcfg_domain_free(want);
    xlcfg_domain_free(got);
    free(out);
    free(err);
}

static void test_cli(void)
{
    char path[] = "/tmp/xlcfg-test-XXXXXX", bin[512], args[600];
    FILE *f;
    int fd;

    snprintf(bin, sizeof(bin), "%s/toolstack/xlcfg-check", XEN_ROOT);
    if (access(bin, X_OK)) {
        tap_skip(7, "toolstack/xlcfg-check not built (run make)");
        return;
    }
    fd = mkstemp(path);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        tap_skip(7, "cannot create a temporary file");
        return;
    }
    fputs(full_cfg, f);
    fclose(f);
    snprintf(args, sizeof(args), "%s", path);
    is_int(run_check(args), 0, "xlcfg-check: good config exits 0");
    snprintf(args, sizeof(args), "%s memory=1", path);
    is_int(run_check(args), 1, "xlcfg-check: bad override exits 1");
    snprintf(args, sizeof(args), "%s 'memory='", path);
    is_int(run_check(args), 1, "xlcfg-check: override syntax error exits 1");
    is_int(run_check("/nonexistent.cfg"), 1, "xlcfg-check: missing file 1");
    check_cli_json(bin, path);
    is_int(run_check("--bogus"), 2, "xlcfg-check: usage error exits 2");
    unlink(path);
}

/* ---- fuzz ---- */

static void test_fuzz(void)
{
    size_t base_len = strlen(full_cfg), cap = base_len * 2 + 64, len;
    unsigned int i, built = 0, rejected = 0, bad_rt = 0;
    char *buf = malloc(cap);
    struct xlcfg_domain *d, *d2;
    struct xlcfg *cfg;
    char *json, *err;
    int rc;

    for (i = 0; i < 20000; i++) {
        memcpy(buf, full_cfg, base_len);
        len = base_len;
        mutate(buf, &len, cap);
        cfg = xlcfg_new();
        rc = xlcfg_parse_data(cfg, SRC, buf, len);
        if (i % 3 == 0)
            rc |= xlcfg_parse_override(cfg, "extra += \" x\"", 1);
        d = NULL;
        if (!rc)
            rc = xlcfg_domain_build(cfg, &d);
        if (rc == 0 && d) {
            built++;
            json = NULL;
            err = NULL;
            d2 = NULL;
            if (xlcfg_domain_to_json(d, &json) ||
                xlcfg_domain_from_json(json, &d2, &err) ||
                !xlcfg_domain_equal(d, d2))
                bad_rt++;
            xlcfg_domain_free(d2);
            free(json);
            free(err);
        } else {
            if (xlcfg_error_count(cfg) == 0)
                bad_rt++; /* a failure must say why */
            rejected++;
        }
        xlcfg_domain_free(d);
        xlcfg_free(cfg);
    }
    free(buf);
    ok(built + rejected == 20000,
       "20000 mutated configs parsed without "
       "crashing (%u built, %u rejected)",
       built, rejected);
    is_int(bad_rt, 0,
           "every built mutant round-trips through JSON and "
           "every rejected one has an error");
    ok(built > 1000 && rejected > 1000, "the mutants exercise both paths");

    /* Mutated JSON (a damaged state file) into the decoder. */
    d = build(full_cfg, NULL, &rc);
    json = NULL;
    if (d && !xlcfg_domain_to_json(d, &json)) {
        size_t jlen = strlen(json), jcap = jlen * 2 + 64;
        char *jbuf = malloc(jcap + 1);
        char *json2;

        built = rejected = bad_rt = 0;
        for (i = 0; i < 5000; i++) {
            memcpy(jbuf, json, jlen);
            len = jlen;
            mutate(jbuf, &len, jcap);
            jbuf[len] = '\0';
            d2 = NULL;
            err = NULL;
            if (!xlcfg_domain_from_json(jbuf, &d2, &err)) {
                built++;
                json2 = NULL;
                if (xlcfg_domain_to_json(d2, &json2))
                    bad_rt++;
                free(json2);
            } else {
                rejected++;
                if (!err)
                    bad_rt++;
            }
            xlcfg_domain_free(d2);
            free(err);
        }
        free(jbuf);
        ok(bad_rt == 0 && built + rejected == 5000,
           "5000 mutated JSON documents: %u decoded and re-encoded, %u "
           "refused with a reason",
           built, rejected);
    } else {
        tap_skip(1, "full config did not encode");
    }
    free(json);
    xlcfg_domain_free(d);

    /* Random bytes straight into the spec parsers. */
    for (i = 0; i < 20000; i++) {
        char spec[40], *why = NULL;
        struct xlcfg_disk k;
        struct xlcfg_nic n;
        size_t j, l = rng() % (sizeof(spec) - 1);

        for (j = 0; j < l; j++)
            spec[j] = i % 2 ? "/,:=xvdarwcom0123 ^-@sbhp"[rng() % 25]
                            : (char)(1 + rng() % 255);
        spec[l] = '\0';
        if (!xlcfg_disk_parse(spec, &k, &why))
            xlcfg_disk_clear(&k);
        free(why);
        why = NULL;
        if (!xlcfg_nic_parse(spec, 0, &n, &why))
            xlcfg_nic_clear(&n);
        free(why);
        why = NULL;
        {
            uint64_t map[XLCFG_MAX_CPUS / 64];
            uint32_t devid;

            xlcfg_cpus_parse(spec, map, &why);
            free(why);
            xlcfg_vdev_to_devid(spec, &devid);
        }
    }
    ok(1, "20000 random disk/vif/cpus/vdev strings parsed without crashing");
}

/* ---- allocation failures ---- */

/*
 * The test links with -Wl,--wrap= for malloc, calloc, realloc, strdup,
 * strndup, vasprintf and asprintf: every allocation the library asks for
 * comes here, and the alloc_fail_at'th (from 1) fails; 0 disables it.
 * (yajl's own allocations are not seen.)
 */
static unsigned long alloc_count, alloc_fail_at;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static bool alloc_fails(void)
{
    return alloc_fail_at && ++alloc_count == alloc_fail_at;
}

void *__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return alloc_fails() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);

char *__wrap_strdup(const char *s)
{
    return alloc_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (alloc_fails()) {
        *out = NULL; /* undefined in glibc's contract; be hostile */
        return -1;
    }
    return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return n;
}

/* A config with an error for most keys, and a syntax error. */
static const char oom_bad_cfg[] =
    "name = 'a b'\nmemory = 1\nmaxmem = 'x'\nvcpus = [1]\n"
    "cpus = '9-1'\non_crash = 'x'\ntype = 'hvm'\nuuid = 'u'\n"
    "disk = ['/a,,xvda', '/b,,xvda', 'bad', [ 'l' ]]\n"
    "vif = ['mac=zz', 'ip=1.2.3.4 x', 'rate=1', '']\nfoo = 1\nbar += 'x'\n"
    "baz = ]\nkernel = ''\nroot = 'r'\nextra = 'e'\ncmdline = 'c'\n";

/*
 * oom_run: parse, override, build, encode and decode full_cfg.  Returns
 * the first non-zero rc; *@same tells whether a fully successful run gave
 * the reference domain @ref.
 */
static int oom_run(const struct xlcfg_domain *ref, bool *same)
{
    struct xlcfg_domain *d = NULL, *d2 = NULL;
    struct xlcfg *cfg = xlcfg_new();
    char *json = NULL, *err = NULL;
    int rc = -ENOMEM;

    *same = false;
    if (!cfg)
        return rc;
    rc = xlcfg_parse_data(cfg, SRC, full_cfg, strlen(full_cfg));
    if (!rc)
        rc = xlcfg_parse_override(cfg, "disk += [ '/z,,xvdz' ]", 1);
    if (!rc)
        rc = xlcfg_domain_build(cfg, &d);
    if (!rc)
        rc = xlcfg_domain_to_json(d, &json);
    if (!rc)
        rc = xlcfg_domain_from_json(json, &d2, &err);
    if (!rc)
        *same = xlcfg_domain_equal(d2, ref);
    free(json);
    free(err);
    xlcfg_domain_free(d);
    xlcfg_domain_free(d2);
    xlcfg_free(cfg);
    return rc;
}

static void test_oom(void)
{
    struct xlcfg_domain *ref;
    struct xlcfg *cfg;
    unsigned long n, total, enomem = 0, other = 0, wrong = 0;
    bool same;
    int rc;

    cfg = parse(full_cfg, &rc);
    rc |= xlcfg_parse_override(cfg, "disk += [ '/z,,xvdz' ]", 1);
    ref = NULL;
    if (!rc)
        rc = xlcfg_domain_build(cfg, &ref);
    xlcfg_free(cfg);
    if (rc) {
        tap_skip(3, "reference config did not build");
        return;
    }
    alloc_count = 0;
    alloc_fail_at = ~0ul;
    rc = oom_run(ref, &same);
    total = alloc_count;
    alloc_fail_at = 0;
    ok(rc == 0 && same && total > 50,
       "the whole path makes %lu allocations of its own", total);
    for (n = 1; n <= total; n++) {
        alloc_count = 0;
        alloc_fail_at = n;
        rc = oom_run(ref, &same);
        alloc_fail_at = 0;
        if (rc == -ENOMEM)
            enomem++;
        else if (rc)
            other++;
        else if (!same)
            wrong++;
    }
    is_int((long long)(other + wrong), 0,
           "a failed allocation gives -ENOMEM or a correct result, never "
           "another error or a wrong domain");
    ok(enomem > total / 2, "%lu of %lu failed allocations reported -ENOMEM",
       enomem, total);
    xlcfg_domain_free(ref);

    /* The error paths too: diagnostics need memory as well. */
    other = 0;
    for (n = 1; n <= 400; n++) {
        struct xlcfg_domain *d = NULL;

        alloc_count = 0;
        alloc_fail_at = n;
        cfg = xlcfg_new();
        rc = cfg ? xlcfg_parse_data(cfg, SRC, oom_bad_cfg, strlen(oom_bad_cfg))
                 : -ENOMEM;
        if (cfg && rc != -ENOMEM)
            rc = xlcfg_domain_build(cfg, &d);
        alloc_fail_at = 0;
        if ((rc != -EINVAL && rc != -ENOMEM) || d)
            other++;
        xlcfg_domain_free(d);
        xlcfg_free(cfg);
    }
    is_int((long long)other, 0,
           "failed allocations on the error paths give -EINVAL or -ENOMEM");
}

int main(void)
{
    test_syntax_good();
    test_syntax_errors();
    test_minimal_defaults();
    test_full_config();
    test_cmdline();
    test_keys();
    test_disks();
    test_vifs();
    test_overrides();
    test_json();
    test_cli();
    test_fuzz();
    test_oom();
    return tap_done();
}
