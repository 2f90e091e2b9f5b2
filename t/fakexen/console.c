/* fakexen: guest consoles (libxl_console_get_tty, which reads the pty path xenconsoled
 * published in xenstore).
 *
 * Each domain's console 0 is a pty pair this process opens on first request and keeps,
 * both ends, until the domain is destroyed here (or the process exits): the slave is in raw
 * mode and the guest's banner line (FX_BANNER_FMT) waits in it for the first reader. Another
 * process (a restarted daemon) gets a pty of its own, as the path is not shared state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fakexen.h"

static struct fx_console consoles[MAX_CONSOLES];
static int nconsoles;

static void close_console(struct fx_console *c)
{
    close(c->master);
    close(c->slave);
    *c = consoles[--nconsoles];
}

void fx_console_forget(uint32_t domid)
{
    pthread_mutex_lock(&fx_mu);
    for (int i = 0; i < nconsoles;) {
        if (consoles[i].domid == domid)
            close_console(&consoles[i]);
        else
            i++;
    }
    pthread_mutex_unlock(&fx_mu);
}

/* Opens a pty, makes its slave raw and writes the banner. 0 or -1 (errno set). */
static int open_console(struct fx_console *c, uint32_t domid, const char *name)
{
    struct termios t;
    char banner[FX_NAME_MAX + 64];
    int n;

    c->domid = domid;
    c->slave = -1;
    if ((c->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return -1;
    if (grantpt(c->master) || unlockpt(c->master) || ptsname_r(c->master, c->path, sizeof(c->path)))
        goto fail;
    if ((c->slave = open(c->path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        goto fail;
    if (tcgetattr(c->slave, &t))
        goto fail;
    cfmakeraw(&t);
    if (tcsetattr(c->slave, TCSANOW, &t))
        goto fail;
    n = snprintf(banner, sizeof(banner), FX_BANNER_FMT, name, domid);
    if (n < 0 || (size_t)n >= sizeof(banner) || write(c->master, banner, (size_t)n) != n)
        goto fail;
    return 0;
fail:
    {
        int e = errno;
        close(c->master);
        if (c->slave >= 0)
            close(c->slave);
        errno = e;
    }
    return -1;
}

FX_EXPORT int libxl_console_get_tty(libxl_ctx *ctx, uint32_t domid, int cons_num, libxl_console_type type,
                                    char **path)
{
    struct fx_state *st = fx_load(ctx);
    struct fx_dom *d;
    char name[FX_NAME_MAX + 1];
    int rc = 0;

    if (!st)
        return ERROR_FAIL;
    d = fx_find(st, domid);
    if (d)
        strcpy(name, d->name);
    fx_abort(st);
    if (!d || domid == 0 || cons_num != 0 ||
        (type != LIBXL_CONSOLE_TYPE_PV && type != LIBXL_CONSOLE_TYPE_SERIAL)) {
        fx_xlog(ctx, XTL_ERROR, "Domain %u: unable to read console tty path (console %d, type %d)",
                domid, cons_num, (int)type);
        return ERROR_FAIL;
    }
    pthread_mutex_lock(&fx_mu);
    struct fx_console *c = NULL;
    for (int i = 0; i < nconsoles; i++)
        if (consoles[i].domid == domid)
            c = &consoles[i];
    if (!c) {
        if (nconsoles >= MAX_CONSOLES) {
            rc = ERROR_FAIL;
        } else if (open_console(&consoles[nconsoles], domid, name)) {
            fx_log("domain %u: cannot open a pty: %s", domid, strerror(errno));
            rc = ERROR_FAIL;
        } else {
            c = &consoles[nconsoles++];
        }
    }
    if (c && !(*path = strdup(c->path)))
        rc = ERROR_NOMEM;
    pthread_mutex_unlock(&fx_mu);
    return rc;
}
