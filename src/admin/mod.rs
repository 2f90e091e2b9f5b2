//! The admin program (libvirt's src/admin/).
