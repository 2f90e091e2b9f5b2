//! virtxend's Xen driver (libvirt's src/libxl/): domain XML, libxl configuration, the
//! driver's procedures and state. Built with the `xen` feature only.
pub mod capabilities;
pub mod conf_util;
pub mod console;
mod dispatch;
pub mod domain_def;
pub mod domain_dev;
pub mod domain_event;
pub mod domain_obj;
mod domain_ops;
pub mod domain_xml;
pub mod domconfig;
pub mod driver;
pub mod driver_config;
pub mod error;
pub mod forward_class;
mod lifecycle;
pub mod secondary;
pub mod state_files;
pub mod xml_writer;
