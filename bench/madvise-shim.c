/* LD_PRELOAD helper for bench/startup.py: tries madvise() tricks on a daemon's executable
 * mappings without changing the daemon, to see what they would save before anyone writes
 * them into src/. Selected by VLBENCH_MADV (comma-separated):
 *   random  at load time, MADV_RANDOM on every file-backed executable mapping (does it stop
 *           the kernel's fault-around?)
 *   drop    VLBENCH_MADV_DELAY_MS (default 300) ms after load, a short-lived thread applies
 *           MADV_DONTNEED to every file-backed r-xp mapping: pages used only while starting
 *           leave the page tables (they stay in the page cache) and only what the idle loop
 *           touches comes back. Only never-written r-x mappings are touched, so no data is
 *           lost; relro and data segments are left alone.
 * Built by bench/build-variants. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static void for_exec_mappings(int advice)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[4096];

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perm[8];
        int path_at = 0;

        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perm, &path_at) < 3)
            continue;
        if (path_at <= 0 || line[path_at] != '/')
            continue; /* anonymous, [vdso], [stack]... */
        if (strcmp(perm, "r-xp") != 0)
            continue;
        madvise((void *)lo, hi - lo, advice);
    }
    fclose(f);
}

static void *dropper(void *arg)
{
    long ms = (long)arg;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
    for_exec_mappings(MADV_DONTNEED);
    return NULL;
}

__attribute__((constructor)) static void shim_init(void)
{
    const char *what = getenv("VLBENCH_MADV");
    const char *delay = getenv("VLBENCH_MADV_DELAY_MS");
    pthread_t t;
    pthread_attr_t attr;

    if (!what)
        return;
    if (strstr(what, "random"))
        for_exec_mappings(MADV_RANDOM);
    if (strstr(what, "drop")) {
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 65536);
        pthread_create(&t, &attr, dropper, (void *)(delay ? atol(delay) : 300L));
        pthread_attr_destroy(&attr);
    }
}
