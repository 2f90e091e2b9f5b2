//! virtxend's Xen driver (libvirt's src/libxl/): domain XML, libxl configuration, the
//! driver's procedures and state. Built with the `xen` feature only.
pub mod conf_util;
pub mod domain_def;
pub mod domain_dev;
pub mod domain_xml;
pub mod domconfig;
pub mod error;
pub mod xml_writer;
