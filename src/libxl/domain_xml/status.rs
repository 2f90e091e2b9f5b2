//! The status XML the libxl driver keeps for each running domain in
//! /run/libvirt/libxl/NAME.xml: `<domstatus>` around the live definition, as
//! virDomainObjFormat / virDomainObjParseXML (conf/domain_conf.c) and the driver's
//! private-data callbacks (libxlDomainObjPrivateXMLFormat/Parse, libxl/libxl_domain.c) do.
use super::node::{attr, child, child_text};
use super::{format::format_domain_into, parse, parse_document, postparse, FormatFlags, ParseFlags};
use crate::libxl::domain_def::{DomainDef, DomainState, DomainStatus};
use crate::libxl::error::ConfError;
use crate::libxl::xml_writer::{Attrs, XmlWriter};

/// Status XML for a running domain with hypervisor id `id`; `reason` indexes
/// `state.reasons()` (out-of-range values are written as "unknown").
pub fn format_status_xml(def: &DomainDef, id: i32, state: DomainState, reason: i32) -> String {
    let mut def = def.clone();
    def.id = id;
    let status =
        DomainStatus { state, reason: u32::try_from(reason).unwrap_or(0), pid: 0, lock_process_running: false, lock_state: None, def };
    format_status(&status)
}

/// Status XML with every field of `DomainStatus`.
// C: virDomainObjFormat
pub fn format_status(st: &DomainStatus) -> String {
    let reasons = st.state.reasons();
    let reason = reasons.get(st.reason as usize).copied().unwrap_or("unknown");
    let mut w = XmlWriter::new();
    let attrs = Attrs::new().add("state", st.state.as_str()).add("reason", reason).add("pid", st.pid);
    w.block("domstatus", attrs, |w| {
        // C: libxlDomainObjPrivateXMLFormat
        w.opt_text("lockstate", st.lock_state.as_deref());
        if st.lock_process_running {
            w.empty("lockProcessRunning", Attrs::new());
        }
        // Status files carry the secure parts too (VIR_DOMAIN_DEF_FORMAT_SECURE).
        let flags = FormatFlags { inactive: false, secure: true, update_cpu: false, migratable: false };
        format_domain_into(w, &st.def, Some(st.def.id), flags);
    });
    w.into_string()
}

/// Reads status XML back: the definition, its hypervisor id, the state and reason number.
pub fn parse_status_xml(xml: &str) -> Result<(DomainDef, i32, DomainState, i32), ConfError> {
    let st = parse_status(xml)?;
    let id = st.def.id;
    let reason = i32::try_from(st.reason).unwrap_or(0);
    Ok((st.def, id, st.state, reason))
}

/// Reads status XML into a `DomainStatus`.
// C: virDomainObjParseXML
pub fn parse_status(xml: &str) -> Result<DomainStatus, ConfError> {
    let doc = parse_document(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "domstatus" {
        return Err(ConfError::xml(format!("unexpected root element <{}>, expecting <domstatus>", root.tag_name().name())));
    }
    let Some(domain) = child(root, "domain") else {
        return Err(ConfError::internal("no domain config"));
    };
    let Some(state_text) = attr(root, "state") else {
        return Err(ConfError::internal("missing domain state"));
    };
    let state = DomainState::parse(state_text).ok_or_else(|| ConfError::internal(format!("invalid domain state '{state_text}'")))?;
    let reason = match attr(root, "reason") {
        None => 0,
        Some(r) => {
            state.reasons().iter().position(|s| *s == r).ok_or_else(|| ConfError::internal(format!("invalid domain state reason '{r}'")))?
        }
    };
    let pid = match attr(root, "pid") {
        None => 0,
        Some(p) => p.trim().parse::<i64>().map_err(|_| ConfError::internal("invalid pid"))?,
    };
    let flags = ParseFlags { inactive: false, validate: false };
    let mut def = parse::parse_domain_node(domain, flags)?;
    postparse::post_parse(&mut def)?;
    if def.id < 0 {
        return Err(ConfError::internal("missing id in domain status"));
    }
    Ok(DomainStatus {
        state,
        reason: reason as u32,
        pid,
        lock_process_running: child(root, "lockProcessRunning").is_some(),
        lock_state: child_text(root, "lockstate"),
        def,
    })
}
