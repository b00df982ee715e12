/*
 * test_xlcfg_xlu.c — differential test of toolstack/libxlcfg against Xen's
 * own parser, Debian's libxlutil 4.17 (package libxen-dev: <libxlutil.h>,
 * xlu_cfg_readdata and xlu_disk_parse), used here only as an oracle.
 *
 * Config syntax: for hand-written texts and 5000 mutants of a full config,
 * both parsers must accept or reject alike, and when both accept, every
 * setting must hold the same value.  Inputs that hit one of our documented
 * departures from xl are counted and left out:
 *   - CR bytes (we take CRLF line ends; xl rejects any CR),
 *   - NUL bytes (xl's string dequoting stops at a NUL and can assert),
 *   - \x and octal escapes (xl parses them but never stores the byte),
 *   - a '#' comment on a last line without newline (xl requires the
 *     newline),
 *   - lists nested deeper than 16 (we refuse them),
 *   - a stray character as the very last byte of a text without final
 *     newline (xl's lexer reaches end of input before reporting it).
 *
 * DISKSPECs: hand-written specs and 5000 random ones.  Whatever xl refuses
 * we refuse; where both accept, every field matches; where only xl accepts,
 * our reason must be one of our deliberate extra checks (vdev names that
 * xen-vbd-interface.7 cannot number, an empty target, the virtio
 * specification and the COLO/grant_usage parameters xen-hv lacks, an
 * empty vdev).  The trusted/untrusted flags are documented after 4.17: we
 * take them, 4.17's libxlutil does not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxlutil.h>

#include "xlcfg_priv.h"
#include "tap.h"
#include "xlcfg_corpus.h"

static FILE *devnull;

/*
 * Read by LeakSanitizer in the .asan build: libxlutil 4.17 leaks on some of
 * its own error paths (values of a statement it gave up on); not ours.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libxlutil.so\n";
}

/* skip_reason: which departure from xl @text hits, NULL for none. */
static const char *skip_reason(const char *text, size_t len)
{
    const char *last_nl;
    unsigned int depth = 0, max_depth = 0;
    size_t i;

    if (memchr(text, '\r', len))
        return "CR";
    if (memchr(text, '\0', len))
        return "NUL";
    for (i = 0; i + 1 < len; i++)
        if (text[i] == '\\' &&
            (text[i + 1] == 'x' || (text[i + 1] >= '0' && text[i + 1] <= '7')))
            return "numeric escape";
    last_nl = memrchr(text, '\n', len);
    if (memchr(last_nl ? last_nl : text, '#',
               len - (size_t)(last_nl ? last_nl - text : 0)))
        return "comment at end of file";
    for (i = 0; i < len; i++) {
        depth += text[i] == '[';
        if (depth > max_depth)
            max_depth = depth;
        if (text[i] == ']' && depth)
            depth--;
    }
    if (max_depth > XLCFG_NEST_MAX)
        return "deep nesting";
    if (len && text[len - 1] != '\n' &&
        !strchr("abcdefghijklmnopqrstuvwxyz0123456789'\"[],;= \t",
                text[len - 1]))
        return "stray last byte";
    return NULL;
}

/* same_setting: xl holds the same value for our setting @s. */
static bool same_setting(const XLU_Config *xc, const struct xlcfg_setting *s)
{
    const struct xlcfg_value *v = s->value;
    XLU_ConfigList *list;
    const char *str;
    int n, i;

    if (v->type == XLCFG_V_STRING)
        return !xlu_cfg_get_string(xc, s->name, &str, 1) &&
               !strcmp(str, v->str);
    if (xlu_cfg_get_list(xc, s->name, &list, &n, 1) || (size_t)n != v->n)
        return false;
    for (i = 0; i < n; i++) {
        str = xlu_cfg_get_listitem(list, i);
        if (v->items[i]->type == XLCFG_V_LIST
                ? str != NULL
                : !str || strcmp(str, v->items[i]->str))
            return false;
    }
    return true;
}

/*
 * compare_syntax: parse @text with both; returns true when they agree.
 * *@skipped set when the text was left out.
 */
static bool compare_syntax(const char *text, size_t len, bool *skipped,
                           bool *accepted)
{
    struct xlcfg *cfg;
    XLU_Config *xc;
    bool ours, theirs, same = true;
    size_t i;

    *skipped = skip_reason(text, len) != NULL;
    *accepted = false;
    if (*skipped)
        return true;
    cfg = xlcfg_new();
    xc = xlu_cfg_init(devnull, "t.cfg");
    ours = xlcfg_parse_data(cfg, "t.cfg", text, len) == 0;
    theirs = xlu_cfg_readdata(xc, text, (int)len) == 0;
    if (ours != theirs)
        same = false;
    for (i = 0; same && ours && i < cfg->nsettings; i++)
        same = same_setting(xc, &cfg->settings[i]);
    *accepted = ours && theirs;
    if (!same) {
        tap_diag("  differs (ours %s, xl %s): %.*s",
                 ours ? "accepts" : "rejects", theirs ? "accepts" : "rejects",
                 (int)len, text);
        for (i = 0; i < xlcfg_diag_count(cfg); i++)
            tap_diag("  ours: %s", xlcfg_diag(cfg, i));
    }
    xlu_cfg_destroy(xc);
    xlcfg_free(cfg);
    return same;
}

static void test_syntax(void)
{
    static const char *const texts[] = {
        "",
        ";;\n;\n",
        "a = 1\n",
        "a = 1",
        "a=1;b='x';c=\"y\"\n",
        "a = 0x1f\nb = 0777\nc = 12abc\n",
        "a = 0xFF\n",
        "a = [ 'x', \"y\", 3, ]\n",
        "a = [\n 'p',\n\n 'q'\n ,\n]\n",
        "a = []\nb = [ ]\n",
        "a = [ [ '1', '2' ], [] ]\n",
        "a = [,]\n",
        "a = [1,,2]\n",
        "a = 'x'\na += 'y'\n",
        "a = ['x']\na += ['y', 'z']\n",
        "a += 'new'\n",
        "a = 'x'\na += ['y']\n",
        "a = 1\na += 2\n",
        "a = 'q\\\"\\\\\\t\\n\\a\\b\\f\\r\\v\\''\n",
        "a = \"it's\"\n",
        "a = 'b\\q'\n",
        "a = 'unterminated\n",
        "a = \"x\\\ny\"\n",
        "Name = 1\n",
        "a.b_c9 = 1\n",
        "_a = 1\n",
        "a = 1 2\n",
        "a == 1\n",
        "a = (1)\n",
        "a = -1\n",
        "a = b\n",
        "a = 1 # trailing comment\n",
        "# only a comment\n",
        "a = '\xc3\xa9\xff'\n",
        "a = 1\n\xff = 2\n",
        "a = ]\n",
        "= 1\n",
        "a\n",
        "a = [1\n",
        "a = [1] [2]\n",
        "a = 1; ; b = 2\n",
        "a = 1\n\n\n\n",
        "\t a \t = \t 1 \t\n",
    };
    unsigned int agree = 0, skipped_n = 0, accepted_n = 0, i;
    size_t base_len = strlen(full_cfg), cap = base_len * 2 + 64, len;
    char *buf = malloc(cap);
    bool skipped, accepted;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        bool same =
            compare_syntax(texts[i], strlen(texts[i]), &skipped, &accepted);
        char name[64], *p;

        snprintf(name, sizeof(name), "%s", texts[i]);
        for (p = name; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = '|';
        ok(same && !skipped, "xl agrees on \"%s\" (%s)", name,
           accepted ? "accepted" : "rejected");
    }
    for (i = 0; i < 5000; i++) {
        memcpy(buf, full_cfg, base_len);
        len = base_len;
        mutate(buf, &len, cap);
        agree += compare_syntax(buf, len, &skipped, &accepted);
        skipped_n += skipped;
        accepted_n += accepted;
    }
    free(buf);
    is_int(agree, 5000, "5000 mutated configs: xl and libxlcfg agree");
    tap_diag("mutants: %u accepted by both, %u left out (known departures)",
             accepted_n, skipped_n);
    ok(accepted_n > 200 && skipped_n < 2500,
       "the mutants exercise acceptance (%u) and few are left out (%u)",
       accepted_n, skipped_n);
}

static bool str_same(const char *ours, const char *theirs)
{
    /* We hold an absent or empty string as NULL; libxl as "" or NULL. */
    if (!ours || !*ours)
        return !theirs || !*theirs;
    return theirs && !strcmp(ours, theirs);
}

static bool defbool_same(enum xlcfg_defbool ours, libxl_defbool theirs)
{
    if (libxl_defbool_is_default(theirs))
        return ours == XLCFG_DEFAULT;
    return ours == (libxl_defbool_val(theirs) ? XLCFG_TRUE : XLCFG_FALSE);
}

/* Our extra checks, the only reasons to refuse what xl accepts. */
static bool deliberate(const char *why)
{
    static const char *const reasons[] = {
        "bad vdev",
        "no target",
        "specification",
        "no vdev",
        "unknown disk parameter",
    };
    size_t i;

    for (i = 0; why && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (!strncmp(why, reasons[i], strlen(reasons[i])))
            return true;
    return false;
}

/* compare_disk: @spec through both; true when they agree. */
static bool compare_disk(const char *spec, unsigned int *both,
                         unsigned int *stricter)
{
    struct xlcfg_disk k;
    libxl_device_disk x;
    XLU_Config *xc = xlu_cfg_init(devnull, "t.cfg");
    char *why = NULL;
    int ours, theirs;
    bool same;

    libxl_device_disk_init(&x);
    ours = xlcfg_disk_parse(spec, &k, &why);
    theirs = xlu_disk_parse(xc, 1, &spec, &x);
    if (theirs) {
        /* The one thing we take that 4.17 does not. */
        same = ours != 0 || strstr(spec, "trusted");
    } else if (ours) {
        same = deliberate(why);
        *stricter += same;
    } else {
        (*both)++;
        same = str_same(k.pdev_path, x.pdev_path) && str_same(k.vdev, x.vdev) &&
               str_same(k.backend_domname, x.backend_domname) &&
               str_same(k.script, x.script) &&
               k.format == (enum xlcfg_disk_format)x.format &&
               k.backend == (enum xlcfg_disk_backend)x.backend &&
               k.readwrite == !!x.readwrite && k.is_cdrom == !!x.is_cdrom &&
               k.direct_io_safe == x.direct_io_safe &&
               defbool_same(k.discard_enable, x.discard_enable) &&
               defbool_same(k.trusted, x.trusted);
    }
    if (!same)
        tap_diag("  disk '%s': ours %d (%s), xl %d", spec, ours,
                 why ? why : "-", theirs);
    free(why);
    if (!ours)
        xlcfg_disk_clear(&k);
    libxl_device_disk_dispose(&x);
    xlu_cfg_destroy(xc);
    return same;
}

static void test_disks(void)
{
    static const char *const specs[] = {
        "/dev/vg/guest-volume,,hda",
        "/dev/vg/guest-volume,raw,hda,rw",
        "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
        "raw:/dev/vg/guest-volume,hda,w",
        "/root/image.iso,,hdc,cdrom",
        "/root/image.iso,,hdc,,cdrom",
        "/root/image.iso,raw,hdc,devtype=cdrom",
        "format=raw, vdev=hdc, access=ro, devtype=cdrom, "
        "target=/root/image.iso",
        "raw:/root/image.iso,hdc:cdrom,ro",
        ",hdc:cdrom,r",
        "file:/img,xvda,w",
        "phy:/dev/sdb,xvdb1,r",
        "tap:aio:/img,xvdc,w",
        "tap2:tapdisk:aio:/img,xvdc,w",
        "qcow2:/img.q,xvdd,w",
        "qcow:/img.q,xvdd,w",
        "vhd:/img.v,xvdd,w",
        "nbd:host:1234,xvda,w",
        "iscsi:iqn,xvda,w",
        "/img,qcow2,xvde",
        "/img,vhd,xvdf,ro",
        "/img,qed,xvdf,r",
        "/img,empty,xvdf",
        "vdev=xvdq, target=/x",
        "target=/a, b,c",
        "vdev=xvda,target=/a,",
        "/x,,xvda,target=/y",
        ",,xvda,target=/y",
        "/x,,xvda",
        "/x,,xvda,w,",
        "  /x , ,xvda",
        "/x,,xvda,devtype=disk",
        "/x,,xvda,backendtype=phy,backend=dd,script=s",
        "/x,,xvda,backendtype=qdisk",
        "/x,,xvda,backendtype=tap",
        "/x,,xvda,backendtype=standalone",
        "/x,,xvda,direct-io-safe,discard",
        "/x,,xvda,no-discard",
        "/x",
        "/x,,",
        "vdev=xvda",
        ",,xvda",
        "/x,bogus,xvda",
        "/x,,xvda,rx",
        "/x,,xvda,w,extra",
        "/x,,xvda,devtype=floppy",
        "/x,,xvda,backendtype=qemu",
        "/x,,xvda,color=red",
        "/x,,xvda,color=r",
        "/x,,xvda,vdev=xvdb",
        "/x,raw,xvda,format=qcow2",
        "/x,raw,xvda,format=raw",
        "bogus:/x,xvda,w",
        "/x,,xvda,specification=virtio",
        "/x,,xvda,specification=xen",
        "/x,,hdc:floppy",
        "/x,,hdc:disk",
        "/x,,xvda,grant_usage=1",
        "/x,,foo",
        "/x=y,,xvda",
        "vdev = xvda, target=/x",
        "",
        ",",
        "target=",
    };
    /* Parameters a DISKSPEC is made of, and some that are wrong. */
    static const char *const parts[] = {
        "/img",
        "",
        "raw",
        "qcow2",
        "vhd",
        "xvda",
        "xvdb1",
        "hdc",
        "sda2",
        "d1p2",
        "w",
        "r",
        "ro",
        "rw",
        "cdrom",
        "devtype=cdrom",
        "devtype=disk",
        "access=ro",
        "access=w",
        "format=raw",
        "format=vhd",
        "vdev=xvdc",
        "target=/t",
        "file:/f",
        "raw:/f",
        "phy:/dev/x",
        "tap:aio:/f",
        "hdc:cdrom",
        "backendtype=phy",
        "script=s",
        "discard",
        "direct-io-safe",
        "backend=dd",
        " xvdd",
        "a=b",
        "x:",
        "=",
        "zz",
        "/f g",
        "nbd:h:1",
    };
    unsigned int agree = 0, both = 0, stricter = 0, i, n, k;
    char spec[160];

    for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        ok(compare_disk(specs[i], &both, &stricter), "xl agrees on disk '%s'",
           specs[i]);
    for (i = 0; i < 5000; i++) {
        n = 1 + rng() % 5;
        spec[0] = '\0';
        for (k = 0; k < n; k++) {
            if (k)
                strcat(spec, ",");
            strcat(spec, parts[rng() % (sizeof(parts) / sizeof(parts[0]))]);
        }
        agree += compare_disk(spec, &both, &stricter);
    }
    is_int(agree, 5000, "5000 random DISKSPECs: xl and libxlcfg agree");
    tap_diag("random specs: %u accepted by both, %u refused only by us "
             "(deliberate checks)",
             both, stricter);
    ok(both > 200, "the random specs exercise acceptance (%u)", both);
}

int main(void)
{
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        tap_skip_all("cannot open /dev/null");
    test_syntax();
    test_disks();
    fclose(devnull);
    return tap_done();
}
