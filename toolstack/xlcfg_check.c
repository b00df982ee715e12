/*
 * xlcfg_check.c — `xlcfg-check FILE [key=value...]`: parse an xl.cfg with
 * command-line overrides (as `xl create FILE key=value ...`), print the
 * validated domain configuration as JSON on stdout, or the errors on
 * stderr.  Warnings go to stderr either way.
 *
 * Exit status: 0 valid, 1 invalid (or unreadable) config, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xlcfg-check [--quiet] FILE [key=value...]\n"
               "Parse an xl domain config (with overrides applied after the "
               "file)\nand print the resulting domain configuration as "
               "JSON.\n"
               "  -q, --quiet   print nothing on success\n"
               "  -h, --help    this text\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct xlcfg_domain *d = NULL;
    struct xlcfg *cfg = NULL;
    char *json = NULL;
    bool quiet = false;
    int c, i, rc, status = 1;
    size_t k;

    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    cfg = xlcfg_new();
    if (!cfg) {
        fprintf(stderr, "xlcfg-check: out of memory\n");
        return 1;
    }
    /* Parse everything first so that every error is listed. */
    rc = xlcfg_parse_file(cfg, argv[optind]);
    for (i = optind + 1; i < argc && rc != -ENOMEM; i++) {
        int orc = xlcfg_parse_override(cfg, argv[i], i - optind);

        if (!rc)
            rc = orc;
    }
    if (!rc)
        rc = xlcfg_domain_build(cfg, &d);
    for (k = 0; k < xlcfg_diag_count(cfg); k++)
        fprintf(stderr, "%s\n", xlcfg_diag(cfg, k));
    if (rc == -ENOMEM) {
        fprintf(stderr, "xlcfg-check: out of memory\n");
        goto out;
    }
    if (rc)
        goto out;
    if (xlcfg_domain_to_json(d, &json)) {
        fprintf(stderr, "xlcfg-check: out of memory\n");
        goto out;
    }
    if (!quiet)
        printf("%s\n", json);
    status = 0;
out:
    free(json);
    xlcfg_domain_free(d);
    xlcfg_free(cfg);
    return status;
}
