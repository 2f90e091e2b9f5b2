# Makefile: build and install virtlite (virtproxyd, virtxend) the way a
# distribution packager expects. Needs GNU make; cargo does the compiling.
#
#   make                       release build (cargo build --release)
#   make install               binaries, configs, man pages, init files
#   make install-virtproxyd    the proxy only (hosts built without Xen)
#   make install-virtxend      the Xen daemon only
#   make uninstall             remove what install put there
#   make check                 run the test suite (t/run-tests)
#   make check-xen             only the real-Xen step: Xen 4.17 + a Debian dom0 under
#                              QEMU, virtxend driven by virsh there (t/xen/check-xen;
#                              needs root, and the Debian archive the first time)
#   make clean                 remove build output
#
# Directories (override on the command line, e.g. make install PREFIX=/usr):
#   PREFIX       /usr/local
#   SBINDIR      $(PREFIX)/sbin
#   SYSCONFDIR   $(PREFIX)/etc, but /etc when PREFIX is /usr (meson's rule;
#                autotools always uses $(PREFIX)/etc and distros pass /etc)
#   RUNSTATEDIR  /run
#   MANDIR       $(PREFIX)/share/man
#   UNITDIR      $(PREFIX)/lib/systemd/system
#   OPENRCDIR    $(SYSCONFDIR)/init.d    OpenRC service scripts
#   OPENRCCONFDIR $(SYSCONFDIR)/conf.d   their settings
#   INITDDIR     $(SYSCONFDIR)/init.d    LSB/sysvinit scripts
#   INITCONFDIR  $(SYSCONFDIR)/default   settings read by the LSB scripts and
#                                        the systemd units (/etc/sysconfig on
#                                        Red Hat style systems)
#   DESTDIR      staging root prepended to every installed path
#
# SYSCONFDIR and RUNSTATEDIR are compiled into the daemons as their default
# paths (VIRTLITE_SYSCONFDIR, VIRTLITE_RUNSTATEDIR): build and install with
# the same values. "make" records them next to the binaries and "make
# install" refuses to install binaries built for other paths.
#
# Other knobs:
#   CARGO        cargo                      the cargo to run
#   CARGOFLAGS                              extra flags, e.g. --locked --offline
#   FEATURES     xen                        cargo features; FEATURES= builds
#                                           without Xen (virtproxyd only), and
#                                           then "make install" installs only
#                                           virtproxyd
#   BINDIR_SRC   target/release             where install takes the binaries
#   INIT_SYSTEMS systemd plus openrc if /sbin/openrc-run exists, else sysv.
#                Any of: systemd openrc sysv. OpenRC and LSB scripts share
#                /etc/init.d, so pick one of them unless OPENRCDIR differs.
#   MANCOMPRESS  (empty)                    man pages are installed plain, as
#                                           distro tools compress them; set
#                                           MANCOMPRESS=gzip to install .gz
#
# Sample configuration files go to $(SYSCONFDIR)/libvirt. Without DESTDIR an
# existing file is kept (the new sample is not installed); with DESTDIR they
# are always written. uninstall removes a configuration file only if it is
# still identical to the sample.
#
# Nothing here reloads systemd or enables services: that is the packager's
# (or the administrator's) step, e.g. systemctl daemon-reload,
# rc-update add virtproxyd default, update-rc.d virtproxyd defaults.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= $(if $(filter /usr /usr/,$(PREFIX)),/etc,$(PREFIX)/etc)
RUNSTATEDIR ?= /run
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
OPENRCDIR ?= $(SYSCONFDIR)/init.d
OPENRCCONFDIR ?= $(SYSCONFDIR)/conf.d
INITDDIR ?= $(SYSCONFDIR)/init.d
INITCONFDIR ?= $(SYSCONFDIR)/default

CARGO ?= cargo
CARGOFLAGS ?=
FEATURES ?= xen
BINDIR_SRC ?= target/release
INIT_SYSTEMS ?= systemd $(if $(wildcard /sbin/openrc-run /usr/sbin/openrc-run),openrc,sysv)
MANCOMPRESS ?=

INSTALL ?= install
SHELL = /bin/sh

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)

# The build stamp: which paths the binaries in BINDIR_SRC were built for.
PATHS_STAMP = $(BINDIR_SRC)/virtlite-paths
PATHS_TEXT = SYSCONFDIR=$(SYSCONFDIR)\nRUNSTATEDIR=$(RUNSTATEDIR)\n

CARGO_FEATURES = --no-default-features $(if $(strip $(FEATURES)),--features '$(strip $(FEATURES))')
WITH_XEN = $(filter xen,$(FEATURES))

# Placeholders in the files under conf/ and man/.
SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' \
	-e 's|@INITCONFDIR@|$(INITCONFDIR)|g' \
	-e 's|@VERSION@|$(VERSION)|g'

# What belongs to each daemon.
virtproxyd_CONFS = virtproxyd.conf
virtproxyd_MAN = man8/virtproxyd.8 man5/virtproxyd.conf.5
virtproxyd_UNITS = virtproxyd.service virtproxyd.socket virtproxyd-ro.socket \
	virtproxyd-admin.socket virtproxyd-tcp.socket virtproxyd-tls.socket
virtxend_CONFS = virtxend.conf libxl.conf
virtxend_MAN = man8/virtxend.8 man5/virtxend.conf.5 man5/libxl.conf.5
virtxend_UNITS = virtxend.service virtxend.socket virtxend-ro.socket \
	virtxend-admin.socket

DAEMONS = virtproxyd $(if $(WITH_XEN),virtxend)

ifneq ($(filter openrc,$(INIT_SYSTEMS)),)
ifneq ($(filter sysv,$(INIT_SYSTEMS)),)
ifeq ($(OPENRCDIR),$(INITDDIR))
$(error INIT_SYSTEMS has both openrc and sysv but both install into $(INITDDIR): pick one, or set OPENRCDIR)
endif
endif
endif
ifneq ($(filter-out systemd openrc sysv,$(INIT_SYSTEMS)),)
$(error INIT_SYSTEMS may hold only systemd, openrc and sysv, not: $(filter-out systemd openrc sysv,$(INIT_SYSTEMS)))
endif

.PHONY: all install uninstall check check-xen clean \
	install-virtproxyd install-virtxend uninstall-virtproxyd uninstall-virtxend

all:
	VIRTLITE_SYSCONFDIR='$(SYSCONFDIR)' VIRTLITE_RUNSTATEDIR='$(RUNSTATEDIR)' \
		$(CARGO) build --release $(CARGO_FEATURES) $(CARGOFLAGS)
	mkdir -p '$(BINDIR_SRC)'
	printf '$(PATHS_TEXT)' > '$(PATHS_STAMP)'

install: $(addprefix install-,$(DAEMONS))
uninstall: uninstall-virtproxyd uninstall-virtxend

# $(call install_daemon,NAME): every file of daemon NAME.
define install_daemon
	@set -e; \
	bin='$(BINDIR_SRC)/$(1)'; \
	if [ ! -f "$$bin" ]; then \
		echo "$$bin: not built; run 'make' first (FEATURES=$(FEATURES))" >&2; exit 1; \
	fi; \
	if [ -r '$(PATHS_STAMP)' ] && ! printf '$(PATHS_TEXT)' | cmp -s - '$(PATHS_STAMP)'; then \
		echo "$(BINDIR_SRC) was built for other paths:" >&2; sed 's/^/  /' '$(PATHS_STAMP)' >&2; \
		echo "  rebuild with: make SYSCONFDIR=$(SYSCONFDIR) RUNSTATEDIR=$(RUNSTATEDIR)" >&2; exit 1; \
	fi; \
	d='$(DESTDIR)'; \
	put() { \
		$(INSTALL) -d "$$d$$(dirname "$$2")"; \
		$(SUBST) "$$1" > "$$d$$2.tmp"; chmod "$$3" "$$d$$2.tmp"; mv -f "$$d$$2.tmp" "$$d$$2"; \
		echo "  INSTALL $$2"; \
	}; \
	keep() { \
		if [ -z "$$d" ] && [ -e "$$2" ]; then echo "  KEEP    $$2 (exists; sample not installed)"; \
		else put "$$1" "$$2" 0644; fi; \
	}; \
	$(INSTALL) -d "$$d$(SBINDIR)"; \
	$(INSTALL) -m 0755 "$$bin" "$$d$(SBINDIR)/$(1)"; echo "  INSTALL $(SBINDIR)/$(1)"; \
	for f in $($(1)_CONFS); do keep "conf/$$f" "$(SYSCONFDIR)/libvirt/$$f"; done; \
	for m in $($(1)_MAN); do \
		put "man/$${m#*/}" "$(MANDIR)/$$m" 0644; \
		if [ -n '$(MANCOMPRESS)' ]; then \
			rm -f "$$d$(MANDIR)/$$m.gz"; gzip -9n "$$d$(MANDIR)/$$m"; \
		fi; \
	done; \
	$(if $(filter systemd,$(INIT_SYSTEMS)), \
		for u in $($(1)_UNITS); do put "conf/systemd/$$u" "$(UNITDIR)/$$u" 0644; done;) \
	$(if $(filter systemd sysv,$(INIT_SYSTEMS)), \
		keep "conf/sysv/$(1).default" "$(INITCONFDIR)/$(1)";) \
	$(if $(filter sysv,$(INIT_SYSTEMS)), \
		put "conf/sysv/$(1)" "$(INITDDIR)/$(1)" 0755;) \
	$(if $(filter openrc,$(INIT_SYSTEMS)), \
		put "conf/openrc/$(1).initd" "$(OPENRCDIR)/$(1)" 0755; \
		put "conf/openrc/$(1).confd" "$(OPENRCCONFDIR)/$(1)" 0644;) \
	true
endef

# $(call uninstall_daemon,NAME): remove what install_daemon put there, from
# every init system; settings files only if they still match the sample.
define uninstall_daemon
	@set -e; \
	d='$(DESTDIR)'; \
	del() { if [ -e "$$d$$1" ]; then rm -f "$$d$$1"; echo "  RM      $$1"; fi; }; \
	delsample() { \
		if [ ! -e "$$d$$2" ]; then return 0; fi; \
		if $(SUBST) "$$1" | cmp -s - "$$d$$2"; then del "$$2"; \
		else echo "  KEEP    $$2 (changed)"; fi; \
	}; \
	del "$(SBINDIR)/$(1)"; \
	for f in $($(1)_CONFS); do delsample "conf/$$f" "$(SYSCONFDIR)/libvirt/$$f"; done; \
	for m in $($(1)_MAN); do del "$(MANDIR)/$$m"; del "$(MANDIR)/$$m.gz"; done; \
	for u in $($(1)_UNITS); do del "$(UNITDIR)/$$u"; done; \
	delsample "conf/sysv/$(1).default" "$(INITCONFDIR)/$(1)"; \
	if [ -e "$$d$(INITDDIR)/$(1)" ] && grep -q '^### BEGIN INIT INFO' "$$d$(INITDDIR)/$(1)"; then \
		del "$(INITDDIR)/$(1)"; fi; \
	if [ -e "$$d$(OPENRCDIR)/$(1)" ] && head -n 1 "$$d$(OPENRCDIR)/$(1)" | grep -q openrc-run; then \
		del "$(OPENRCDIR)/$(1)"; fi; \
	delsample "conf/openrc/$(1).confd" "$(OPENRCCONFDIR)/$(1)"
endef

install-virtproxyd:
	$(call install_daemon,virtproxyd)

install-virtxend:
	$(call install_daemon,virtxend)

uninstall-virtproxyd:
	$(call uninstall_daemon,virtproxyd)

uninstall-virtxend:
	$(call uninstall_daemon,virtxend)

check:
	./t/run-tests

check-xen:
	./t/xen/check-xen

clean:
	$(CARGO) clean
	rm -f '$(PATHS_STAMP)'
