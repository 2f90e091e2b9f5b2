/* fakexen: the simulated host's information (the libxl calls that would ask Xen about the
 * machine: version, physinfo, NUMA and CPU topology, free memory, CPU/node counts).
 *
 * The host is fixed (state.h: FX_HOST_CPUS CPUs in one socket, one NUMA node,
 * FX_HOST_MEM_KB of RAM, Xen 4.17 with dom0_mem on its command line); free memory follows
 * the domains in the state file.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "fakexen.h"

#define PAGE_KB 4u

/* Xen's version information; libxl returns a pointer it owns, so do we (never freed). */
static libxl_version_info fx_version = {
    .xen_version_major = 4,
    .xen_version_minor = 17,
    .xen_version_extra = ".0",
    .compiler = "fakexen (virtlite test host)",
    .compile_by = "fakexen",
    .compile_domain = "localdomain",
    .compile_date = "Thu Jan  1 00:00:00 UTC 2026",
    .capabilities = "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64",
    .changeset = "fakexen",
    .virt_start = 0xffff800000000000ull,
    .pagesize = 4096,
    .commandline = "placeholder dom0_mem=1024M,max:1024M",
    .build_id = "",
};

_Static_assert(FX_DOM0_MEM_KB == 1024u * 1024u, "the command line above says dom0_mem=1024M");

/* The free memory now, or -1 (logged) when the state cannot be read. */
static int64_t free_kb(libxl_ctx *ctx)
{
    struct fx_state *st = fx_load(ctx);
    uint64_t kb;
    if (!st)
        return -1;
    kb = fx_free_kb(st);
    fx_abort(st);
    return (int64_t)kb;
}

FX_EXPORT const libxl_version_info *libxl_get_version_info(libxl_ctx *ctx)
{
    (void)ctx;
    return &fx_version;
}

FX_EXPORT int libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *p)
{
    int64_t kb = free_kb(ctx);
    if (kb < 0)
        return ERROR_FAIL;
    p->threads_per_core = 1;
    p->cores_per_socket = FX_HOST_CPUS;
    p->max_cpu_id = FX_HOST_CPUS - 1;
    p->nr_cpus = FX_HOST_CPUS;
    p->cpu_khz = 2400000;
    p->total_pages = FX_HOST_MEM_KB / PAGE_KB;
    p->free_pages = (uint64_t)kb / PAGE_KB;
    p->scrub_pages = 0;
    p->outstanding_pages = 0;
    p->sharing_freed_pages = 0;
    p->sharing_used_frames = 0;
    p->max_possible_mfn = FX_HOST_MEM_KB / PAGE_KB - 1;
    p->nr_nodes = 1;
    memset(p->hw_cap, 0, sizeof(p->hw_cap));
    p->cap_hvm = true;
    p->cap_pv = true;
    p->cap_hvm_directio = true;
    p->cap_hap = true;
    p->cap_shadow = true;
    p->cap_iommu_hap_pt_share = false;
    p->cap_vmtrace = false;
    p->cap_vpmu = false;
    p->cap_gnttab_v1 = true;
    p->cap_gnttab_v2 = true;
    return 0;
}

FX_EXPORT int libxl_get_max_cpus(libxl_ctx *ctx)
{
    (void)ctx;
    return FX_HOST_CPUS;
}

FX_EXPORT int libxl_get_online_cpus(libxl_ctx *ctx)
{
    (void)ctx;
    return FX_HOST_CPUS;
}

FX_EXPORT int libxl_get_max_nodes(libxl_ctx *ctx)
{
    (void)ctx;
    return 1;
}

FX_EXPORT int libxl_get_free_memory(libxl_ctx *ctx, uint64_t *memkb)
{
    int64_t kb = free_kb(ctx);
    if (kb < 0)
        return ERROR_FAIL;
    *memkb = (uint64_t)kb;
    return 0;
}

/* One node holding all memory; freed by libxl_numainfo_list_free (dispose + free). */
FX_EXPORT libxl_numainfo *libxl_get_numainfo(libxl_ctx *ctx, int *nr)
{
    int64_t kb = free_kb(ctx);
    libxl_numainfo *n;
    if (kb < 0)
        return NULL;
    if (!(n = calloc(1, sizeof(*n))))
        return NULL;
    libxl_numainfo_init(n);
    if (!(n->dists = calloc(1, sizeof(*n->dists)))) {
        free(n);
        return NULL;
    }
    n->size = FX_HOST_MEM_KB * 1024u;
    n->free = (uint64_t)kb * 1024u;
    n->num_dists = 1;
    n->dists[0] = 10;
    *nr = 1;
    return n;
}

/* Every CPU a core of socket 0, node 0; freed by libxl_cputopology_list_free. */
FX_EXPORT libxl_cputopology *libxl_get_cpu_topology(libxl_ctx *ctx, int *nb_cpu_out)
{
    libxl_cputopology *t = calloc(FX_HOST_CPUS, sizeof(*t));
    (void)ctx;
    if (!t)
        return NULL;
    for (unsigned i = 0; i < FX_HOST_CPUS; i++) {
        libxl_cputopology_init(&t[i]);
        t[i].core = i;
        t[i].socket = 0;
        t[i].node = 0;
    }
    *nb_cpu_out = FX_HOST_CPUS;
    return t;
}
