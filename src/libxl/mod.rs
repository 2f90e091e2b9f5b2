//! virtxend's Xen driver (libvirt's src/libxl/): domain XML, libxl configuration, the
//! driver's procedures and state. Built with the `xen` feature only.
