/* fakexenctl: looks at and acts on the fake Xen host's state file (FAKEXEN_STATE), as the
 * guests themselves would: tests use it to make a guest crash, power off or reboot.
 *
 *   fakexenctl list                  one line per domain: ID NAME STATE MEM_KB VCPUS
 *   fakexenctl show NAME|ID          the domain's fields, one "key: value" a line
 *   fakexenctl crash NAME|ID         the guest crashes (shutdown, reason crash)
 *   fakexenctl poweroff NAME|ID      the guest powers itself off (reason poweroff)
 *   fakexenctl reboot NAME|ID        the guest reboots itself (reason reboot)
 *   fakexenctl check FILE            validates a state file
 *
 * Exit status: 0 done, 1 refused or failed (message on stderr), 2 usage error.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "state.h"

static const char *reason_name(int r)
{
    switch (r) {
    case FX_POWEROFF: return "poweroff";
    case FX_REBOOT: return "reboot";
    case FX_SUSPEND: return "suspend";
    case FX_CRASH: return "crash";
    case FX_WATCHDOG: return "watchdog";
    case FX_SOFT_RESET: return "soft_reset";
    default: return "none";
    }
}

static const char *state_name(const struct fx_dom *d)
{
    if (d->shutdown)
        return "shutdown";
    return d->paused ? "paused" : "running";
}

static int usage(void)
{
    fputs("usage: fakexenctl list | show DOM | crash DOM | poweroff DOM | reboot DOM | check FILE\n", stderr);
    return 2;
}

static int cmd_list(struct fx_state *st)
{
    printf("ID NAME STATE MEM_KB VCPUS\n");
    for (int i = 0; i < st->ndoms; i++) {
        const struct fx_dom *d = &st->doms[i];
        printf("%u %s %s %llu %u\n", d->id, d->name, state_name(d), (unsigned long long)d->cur_kb, d->online);
    }
    return 0;
}

static int cmd_show(const struct fx_dom *d)
{
    char uuid[37];
    fx_uuid_format(d->uuid, uuid);
    printf("id: %u\nname: %s\nuuid: %s\ntype: %s\nstate: %s\nreason: %s\n", d->id, d->name, uuid,
           fx_type_name(d->type), state_name(d), d->shutdown ? reason_name(d->reason) : "none");
    printf("max_kb: %llu\ncur_kb: %llu\nvcpus: %u\nonline: %u\npv_drivers: %s\n", (unsigned long long)d->max_kb,
           (unsigned long long)d->cur_kb, d->vcpus, d->online, d->pv ? "yes" : "no");
    printf("pending: %s\n", d->pending == FX_PEND_POWEROFF ? "poweroff" : d->pending == FX_PEND_REBOOT ? "reboot" : "none");
    for (int i = 0; i < d->nud; i++)
        printf("userdata: %s %zu\n", d->ud[i].key, d->ud[i].len);
    return 0;
}

/* A guest-initiated shutdown: immediate, whatever was pending. */
static int cmd_guest_shutdown(struct fx_dom *d, int reason)
{
    if (d->id == 0) {
        fprintf(stderr, "fakexenctl: Domain-0 cannot be shut down here\n");
        return 1;
    }
    if (d->shutdown) {
        fprintf(stderr, "fakexenctl: domain %s is already shut down (%s)\n", d->name, reason_name(d->reason));
        return 1;
    }
    d->shutdown = 1;
    d->reason = reason;
    d->pending = FX_PEND_NONE;
    d->due_ms = 0;
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];
    struct fx_state *st;
    struct fx_dom *d = NULL;
    int rc, changes = 0;

    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "check")) {
        if (argc != 3)
            return usage();
        if (fx_check_file(argv[2], err, sizeof(err))) {
            fprintf(stderr, "fakexenctl: %s: %s\n", argv[2], err);
            return 1;
        }
        printf("%s: ok\n", argv[2]);
        return 0;
    }
    if (!strcmp(argv[1], "list") ? argc != 2 : argc != 3)
        return usage();
    if (strcmp(argv[1], "list") && strcmp(argv[1], "show") && strcmp(argv[1], "crash") &&
        strcmp(argv[1], "poweroff") && strcmp(argv[1], "reboot"))
        return usage();
    if (!(st = fx_begin(err, sizeof(err)))) {
        fprintf(stderr, "fakexenctl: %s\n", err);
        return 1;
    }
    if (argc == 3 && !(d = fx_lookup(st, argv[2]))) {
        fprintf(stderr, "fakexenctl: no domain %s\n", argv[2]);
        fx_abort(st);
        return 1;
    }
    if (!strcmp(argv[1], "list")) {
        rc = cmd_list(st);
    } else if (!strcmp(argv[1], "show")) {
        rc = cmd_show(d);
    } else {
        int reason = !strcmp(argv[1], "crash") ? FX_CRASH : !strcmp(argv[1], "reboot") ? FX_REBOOT : FX_POWEROFF;
        rc = cmd_guest_shutdown(d, reason);
        changes = rc == 0;
    }
    if (!changes) {
        fx_abort(st);
        return rc;
    }
    if (fx_commit(st, err, sizeof(err))) {
        fprintf(stderr, "fakexenctl: %s\n", err);
        return 1;
    }
    return 0;
}
