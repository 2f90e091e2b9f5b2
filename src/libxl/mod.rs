//! virtxend's Xen driver (libvirt's src/libxl/): domain XML, libxl configuration, the
//! driver's procedures and state. Built with the `xen` feature only.
pub mod conf_util;
pub mod domain_def;
pub mod domain_dev;
pub mod domain_xml;
pub mod domconfig;
pub mod error;
pub mod xml_writer;
pub mod capabilities;
pub mod console;
pub mod forward_class;
pub mod secondary;
mod dispatch;
mod domain_ops;
pub mod domain_event;
pub mod domain_obj;
pub mod driver;
pub mod driver_config;
mod lifecycle;
pub mod state_files;
