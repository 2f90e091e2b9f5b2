/*
 * libxlprobe: a minimal libxl client for the xenlab self-test. It is compiled on the
 * host against the host's libxen-dev and run inside the xenlab dom0, which proves that a
 * host-built program (virtxend) can use dom0's libxenlight.so.4.17 against the real
 * hypervisor. It prints one "key value" line per fact; the self-test compares them with
 * what `xl info` and `xl list` say.
 *
 *   cc -o libxlprobe libxlprobe.c $(pkg-config --cflags --libs xenlight xentoollog)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

int main(void)
{
    xentoollog_logger_stdiostream *logger;
    libxl_ctx *ctx = NULL;
    const libxl_version_info *ver;
    libxl_physinfo phys;
    libxl_dominfo *doms;
    int ndoms, i, rc = 1;

    logger = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    if (!logger) {
        fprintf(stderr, "libxlprobe: cannot create a logger\n");
        return 1;
    }
    if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)logger) != 0) {
        fprintf(stderr, "libxlprobe: libxl_ctx_alloc failed (not in a Xen dom0?)\n");
        goto out;
    }

    ver = libxl_get_version_info(ctx);
    if (!ver) {
        fprintf(stderr, "libxlprobe: libxl_get_version_info failed\n");
        goto out;
    }
    printf("xen_version %d.%d%s\n", ver->xen_version_major, ver->xen_version_minor,
           ver->xen_version_extra ? ver->xen_version_extra : "");
    printf("xen_caps %s\n", ver->capabilities ? ver->capabilities : "");

    libxl_physinfo_init(&phys);
    if (libxl_get_physinfo(ctx, &phys) != 0) {
        fprintf(stderr, "libxlprobe: libxl_get_physinfo failed\n");
        libxl_physinfo_dispose(&phys);
        goto out;
    }
    printf("nr_cpus %" PRIu32 "\n", phys.nr_cpus);
    printf("nr_nodes %" PRIu32 "\n", phys.nr_nodes);
    printf("threads_per_core %" PRIu32 "\n", phys.threads_per_core);
    printf("cores_per_socket %" PRIu32 "\n", phys.cores_per_socket);
    printf("total_pages %" PRIu64 "\n", phys.total_pages);
    printf("cap_pv %d\n", phys.cap_pv ? 1 : 0);
    printf("cap_hvm %d\n", phys.cap_hvm ? 1 : 0);
    printf("cap_hap %d\n", phys.cap_hap ? 1 : 0);
    /* the host CPU feature words Xen reports (libvirt derives its host CPU model from them) */
    printf("hw_cap");
    for (i = 0; i < (int)(sizeof(phys.hw_cap) / sizeof(phys.hw_cap[0])); i++)
        printf(" %08" PRIx32, phys.hw_cap[i]);
    printf("\n");
    libxl_physinfo_dispose(&phys);

    doms = libxl_list_domain(ctx, &ndoms);
    if (!doms) {
        fprintf(stderr, "libxlprobe: libxl_list_domain failed\n");
        goto out;
    }
    for (i = 0; i < ndoms; i++) {
        char *name = libxl_domid_to_name(ctx, doms[i].domid);
        printf("domain %" PRIu32 " %s mem_kb=%" PRIu64 " vcpus=%" PRIu32 "\n",
               doms[i].domid, name ? name : "?", doms[i].current_memkb,
               doms[i].vcpu_online);
        free(name);
    }
    libxl_dominfo_list_free(doms, ndoms);
    rc = 0;

out:
    if (ctx)
        libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)logger);
    return rc;
}
