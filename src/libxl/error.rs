//! The error of the domain XML and libxl configuration code: a libvirt error code
//! (VIR_ERR_*), the libvirt module that raises it (VIR_FROM_*) and the detail text,
//! exactly as virReportError in conf/domain_conf.c, util/virxml.c or libxl/libxl_conf.c
//! would report it, so that virsh prints the message libvirt users know.
use std::fmt;

use crate::rpc::protocol::{
    error_message, RemoteError, VIR_ERR_CONFIG_UNSUPPORTED, VIR_ERR_INTERNAL_ERROR, VIR_ERR_INVALID_ARG, VIR_ERR_OPERATION_INVALID,
    VIR_ERR_XML_DETAIL, VIR_ERR_XML_ERROR, VIR_FROM_CAPABILITIES, VIR_FROM_DOMAIN, VIR_FROM_LIBXL, VIR_FROM_NONE, VIR_FROM_XML,
};

/// One error of the XML or configuration code; `Display` gives the client's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    /// VIR_ERR_* code.
    pub code: i32,
    /// VIR_FROM_* module.
    pub domain: i32,
    /// The detail put in the code's message (None: the code's text alone).
    pub detail: Option<String>,
}

impl ConfError {
    pub fn new(code: i32, domain: i32, detail: impl Into<String>) -> Self {
        ConfError { code, domain, detail: Some(detail.into()) }
    }

    /// A code whose message carries no detail (e.g. VIR_ERR_NO_NAME).
    pub fn bare(code: i32, domain: i32) -> Self {
        ConfError { code, domain, detail: None }
    }

    /// VIR_ERR_XML_ERROR raised by conf/domain_conf.c.
    pub fn xml(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_XML_ERROR, VIR_FROM_DOMAIN, detail)
    }

    /// VIR_ERR_CONFIG_UNSUPPORTED raised by conf/domain_conf.c.
    pub fn unsupported(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_DOMAIN, detail)
    }

    /// VIR_ERR_INTERNAL_ERROR raised by conf/domain_conf.c.
    pub fn internal(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_DOMAIN, detail)
    }

    /// VIR_ERR_CONFIG_UNSUPPORTED raised by the libxl driver (libxl_conf.c, libxl_domain.c).
    pub fn libxl_unsupported(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LIBXL, detail)
    }

    /// VIR_ERR_INTERNAL_ERROR raised by the libxl driver.
    pub fn libxl_internal(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LIBXL, detail)
    }

    /// VIR_ERR_OPERATION_INVALID raised by the libxl driver.
    pub fn libxl_invalid(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_OPERATION_INVALID, VIR_FROM_LIBXL, detail)
    }

    /// The attribute-parsing errors of util/virxml.c (virXMLPropEnum and friends).
    pub fn bad_attr(attr: &str, elem: &str, value: &str) -> Self {
        ConfError::new(VIR_ERR_XML_ERROR, VIR_FROM_XML, format!("Invalid value for attribute '{attr}' in element '{elem}': '{value}'."))
    }

    /// virXMLPropUInt's complaint about a value that is not a non-negative integer.
    pub fn bad_uint_attr(attr: &str, elem: &str, value: &str) -> Self {
        ConfError::new(
            VIR_ERR_XML_ERROR,
            VIR_FROM_XML,
            format!(
                "Invalid value for attribute '{attr}' in element '{elem}': '{value}'. \
                 Expected non-negative integer value"
            ),
        )
    }

    /// virXMLPropInt's complaint about a value that is not an integer.
    pub fn bad_int_attr(attr: &str, elem: &str, value: &str) -> Self {
        ConfError::new(
            VIR_ERR_XML_ERROR,
            VIR_FROM_XML,
            format!(
                "Invalid value for attribute '{attr}' in element '{elem}': '{value}'. \
                 Expected integer value"
            ),
        )
    }

    /// A required attribute that is absent (util/virxml.c).
    pub fn missing_attr(attr: &str, elem: &str) -> Self {
        ConfError::new(VIR_ERR_XML_ERROR, VIR_FROM_XML, format!("Missing required attribute '{attr}' in element '{elem}'"))
    }

    /// A malformed document (libxml2's parser error as virXMLParse reports it).
    pub fn not_well_formed(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_XML_DETAIL, VIR_FROM_DOMAIN, detail)
    }

    /// VIR_ERR_INVALID_ARG raised outside any module (util/virutil.c).
    pub fn invalid_arg(detail: impl Into<String>) -> Self {
        ConfError::new(VIR_ERR_INVALID_ARG, VIR_FROM_NONE, detail)
    }

    /// virCapabilitiesDomainDataLookup's failure.
    pub fn no_capabilities(os_type: &str, arch: &str, virt: &str) -> Self {
        ConfError::new(
            VIR_ERR_INVALID_ARG,
            VIR_FROM_CAPABILITIES,
            format!("could not find capabilities for ostype={os_type} arch={arch} domaintype={virt} "),
        )
    }

    /// The message virsh prints after "error: ".
    pub fn message(&self) -> String {
        error_message(self.code, self.detail.as_deref())
    }

    /// The RPC error reply carrying this error.
    pub fn to_remote_error(&self) -> RemoteError {
        RemoteError::new(self.code, self.domain, self.detail.as_deref())
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ConfError {}

impl From<ConfError> for RemoteError {
    fn from(err: ConfError) -> Self {
        err.to_remote_error()
    }
}
