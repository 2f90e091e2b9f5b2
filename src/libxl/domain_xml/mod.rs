//! The domain XML of virtxend: parsing (virDomainDefParseString), the defaults and checks
//! applied after it (virDomainDefPostParse, virDomainDefValidate), formatting
//! (virDomainDefFormat) and the status XML the driver keeps for running domains
//! (virDomainObjFormat / virDomainObjParseXML), all from conf/domain_conf.c.
mod format;
mod format_dev;
mod node;
mod parse;
mod parse_dev;
mod postparse;
mod status;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_err;

use roxmltree::{Document, ParsingOptions};

use super::domain_def::DomainDef;
use super::error::ConfError;

pub use format::format_domain_xml;
pub use status::{format_status_xml, parse_status_xml};

/// Largest document accepted: the RPC layer's string limit (VIR_NET_MESSAGE_STRING_MAX).
pub const MAX_XML_LEN: usize = 4 * 1024 * 1024;

/// Deepest element nesting accepted: libxml2's limit without XML_PARSE_HUGE (libvirt's
/// virXMLParse does not ask for more). It also bounds every recursion over the tree:
/// roxmltree's own while it builds the document, and ours over foreign `<metadata>`.
pub const MAX_XML_DEPTH: usize = 256;

/// How a definition is read (VIR_DOMAIN_DEF_PARSE_* flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseFlags {
    /// VIR_DOMAIN_DEF_PARSE_INACTIVE: drop runtime-only data (id, live aliases, ports).
    pub inactive: bool,
    /// VIR_DOMAIN_DEFINE_VALIDATE. libvirt validates against its RNG schema; we have no
    /// schema, and our parser already refuses every unknown value it reads, so this flag
    /// adds no check of its own.
    pub validate: bool,
}

/// How a definition is written (VIR_DOMAIN_DEF_FORMAT_* / VIR_DOMAIN_XML_* flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FormatFlags {
    /// VIR_DOMAIN_XML_INACTIVE: leave out the live state (id, pty paths, aliases, ports).
    pub inactive: bool,
    /// VIR_DOMAIN_XML_SECURE: include passwords.
    pub secure: bool,
    /// VIR_DOMAIN_XML_UPDATE_CPU: no effect here (Xen domains carry no `<cpu>` model).
    pub update_cpu: bool,
    /// VIR_DOMAIN_XML_MIGRATABLE: leave out what the destination recomputes.
    pub migratable: bool,
}

/// Parses `xml` into a root node, with libvirt's checks on the document itself.
// C: virXMLParse
pub(crate) fn parse_document(xml: &str) -> Result<Document<'_>, ConfError> {
    if xml.len() > MAX_XML_LEN {
        return Err(ConfError::not_well_formed(format!("(domain_definition): document larger than {MAX_XML_LEN} bytes")));
    }
    // Before roxmltree sees it: roxmltree recurses once per level while building the tree.
    check_depth(xml)?;
    let opts = ParsingOptions { allow_dtd: false, nodes_limit: 1_000_000 };
    Document::parse_with_options(xml, opts).map_err(|e| {
        let pos = e.pos();
        ConfError::not_well_formed(format!("(domain_definition):{}: {e}", pos.row))
    })
}

/// Refuses text whose elements nest deeper than MAX_XML_DEPTH, by a scan of its markup
/// that needs no tree (comments, CDATA, processing instructions, declarations and quoted
/// attribute values are skipped). Malformed text is left to the parser.
// C: xmlParseElementStart's depth check (libxml2), as libvirt reports it
fn check_depth(xml: &str) -> Result<(), ConfError> {
    let b = xml.as_bytes();
    let find = |from: usize, pat: &[u8]| b.get(from..).and_then(|r| r.windows(pat.len()).position(|w| w == pat)).map(|p| from + p);
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(lt) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')).map(|p| i + p) {
        let rest = &b[lt..];
        let skip_past = |pat: &[u8]| find(lt, pat).map_or(b.len(), |e| e + pat.len());
        if rest.starts_with(b"<!--") {
            i = skip_past(b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_past(b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_past(b"?>");
        } else if rest.starts_with(b"<!") {
            i = skip_past(b">");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = skip_past(b">");
        } else {
            // A start tag: up to the '>' outside quotes.
            let mut j = lt + 1;
            let mut quote = None;
            while let Some(&c) = b.get(j) {
                match (quote, c) {
                    (None, b'"' | b'\'') => quote = Some(c),
                    (Some(q), _) if c == q => quote = None,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if b.get(j.wrapping_sub(1)) != Some(&b'/') {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    let line = 1 + b[..lt].iter().filter(|&&c| c == b'\n').count();
                    return Err(ConfError::not_well_formed(format!(
                        "(domain_definition):{line}: Excessive depth in document: {MAX_XML_DEPTH} use XML_PARSE_HUGE option"
                    )));
                }
            }
            i = j + 1;
        }
    }
    Ok(())
}

/// Reads a domain definition, applies libvirt's defaults and checks it.
// C: virDomainDefParseString
pub fn parse_domain_xml(xml: &str, flags: ParseFlags) -> Result<DomainDef, ConfError> {
    let doc = parse_document(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "domain" || root.tag_name().namespace().is_some() {
        return Err(ConfError::xml(format!("unexpected root element <{}>, expecting <domain>", root.tag_name().name())));
    }
    let mut def = parse::parse_domain_node(root, flags)?;
    postparse::post_parse(&mut def)?;
    Ok(def)
}

/// The deepest element nesting of a parsed document, without recursion.
fn tree_depth(doc: &Document<'_>) -> usize {
    // Nodes come in document order, so a parent's depth is known before its children's.
    let mut depths: Vec<usize> = Vec::new();
    let mut deepest = 0;
    for n in doc.descendants() {
        let parent = n.parent().map_or(0, |p| depths.get(p.id().get_usize()).copied().unwrap_or(0));
        let depth = parent + usize::from(n.is_element());
        deepest = deepest.max(depth);
        let idx = n.id().get_usize();
        if depths.len() <= idx {
            depths.resize(idx + 1, 0);
        }
        depths[idx] = depth;
    }
    deepest
}

/// Fuzz entry point (fuzz/fuzz_targets/domain_xml.rs), also replayed over the corpus by
/// t/fuzz_corpus.rs: the depth scan must agree with the tree the parser builds; parse as
/// config and as status XML; whatever parses must format, parse again to the same
/// definition, and build a libxl configuration or fail cleanly (the vCPU limit included).
pub fn fuzz_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(doc) = parse_document(text) {
        let depth = tree_depth(&doc);
        assert!(depth <= MAX_XML_DEPTH, "depth {depth} passed the scan");
    }
    let _ = parse_status_xml(text);
    let flags = ParseFlags { inactive: true, validate: false };
    let Ok(def) = parse_domain_xml(text, flags) else {
        return;
    };
    let fmt = FormatFlags { inactive: true, secure: true, ..FormatFlags::default() };
    let out = format_domain_xml(&def, None, fmt);
    match parse_domain_xml(&out, flags) {
        Ok(again) => assert_eq!(def, again, "re-parse differs:\n{out}"),
        Err(e) => panic!("formatted XML refused: {e}\n{out}"),
    }
    let status = format_status_xml(&def, 1, crate::libxl::domain_def::DomainState::Running, 1);
    if let Err(e) = parse_status_xml(&status) {
        panic!("status XML refused: {e}\n{status}");
    }
    let env = super::domconfig::BuildEnv { host_cpus: Some(256), ..Default::default() };
    let built = super::domconfig::build_domain_config_json(&def, &env);
    let limit = super::capabilities::max_vcpus(def.is_hvm());
    assert!(def.vcpu.max <= limit || built.is_err(), "{} vCPUs built", def.vcpu.max);
}
