//! Helpers over roxmltree nodes that behave like the XPath lookups of
//! conf/domain_conf.c (`string(./x[1])`, `./x`, attribute getters of util/virxml.c).
use roxmltree::Node;

use crate::libxl::domain_def::{Switch, YesNo};
use crate::libxl::error::ConfError;

/// The first child element named `name` (no namespace), like XPath `./name[1]`.
pub fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().namespace().is_none() && c.tag_name().name() == name)
}

/// Every child element named `name` (no namespace).
pub fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.tag_name().namespace().is_none() && c.tag_name().name() == name)
}

/// The text content of a node (XPath string()): all descendant text, concatenated.
pub fn text_of(node: Node<'_, '_>) -> String {
    let mut s = String::new();
    for d in node.descendants() {
        if d.is_text() {
            if let Some(t) = d.text() {
                s.push_str(t);
            }
        }
    }
    s
}

/// `string(./name[1])`, None when absent or empty (virXPathString).
pub fn child_text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(text_of).filter(|s| !s.is_empty())
}

/// An attribute without namespace.
pub fn attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attributes().find(|a| a.namespace().is_none() && a.name() == name).map(|a| a.value())
}

/// An attribute, None when absent or empty (virXMLPropString then a NULL check).
pub fn attr_nonempty<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    attr(node, name).filter(|s| !s.is_empty())
}

fn elem_name<'a>(node: Node<'a, '_>) -> &'a str {
    node.tag_name().name()
}

/// An enumerated attribute (virXMLPropEnum): unknown values are an error.
pub fn attr_enum<T>(node: Node<'_, '_>, name: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ConfError> {
    match attr(node, name) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| ConfError::bad_attr(name, elem_name(node), v)),
    }
}

/// A required enumerated attribute.
pub fn attr_enum_req<T>(node: Node<'_, '_>, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, ConfError> {
    attr_enum(node, name, parse)?.ok_or_else(|| ConfError::missing_attr(name, elem_name(node)))
}

/// An on/off attribute (virXMLPropTristateSwitch).
pub fn attr_switch(node: Node<'_, '_>, name: &str) -> Result<Option<Switch>, ConfError> {
    attr_enum(node, name, Switch::parse)
}

/// A yes/no attribute (virXMLPropTristateBool).
pub fn attr_yes_no(node: Node<'_, '_>, name: &str) -> Result<Option<YesNo>, ConfError> {
    attr_enum(node, name, YesNo::parse)
}

/// A non-negative integer attribute (virXMLPropUInt, base 10).
pub fn attr_uint(node: Node<'_, '_>, name: &str) -> Result<Option<u32>, ConfError> {
    match attr(node, name) {
        None => Ok(None),
        Some(v) => parse_u32(v).map(Some).ok_or_else(|| ConfError::bad_uint_attr(name, elem_name(node), v)),
    }
}

/// A signed integer attribute (virXMLPropInt, base 10).
pub fn attr_int(node: Node<'_, '_>, name: &str) -> Result<Option<i32>, ConfError> {
    match attr(node, name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i32>().map(Some).map_err(|_| ConfError::bad_int_attr(name, elem_name(node), v)),
    }
}

/// Digits only (what virStrToLong_uip accepts, without sign or leading space).
pub fn parse_u32(v: &str) -> Option<u32> {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Digits only, 64 bits.
pub fn parse_u64(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Digits, base 10, 16 with a 0x prefix, or 8 with a leading 0 (virStrToLong_uip with base 0).
pub fn parse_u32_any_base(v: &str) -> Option<u32> {
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        return u32::from_str_radix(hex, 16).ok();
    }
    if v.len() > 1 && v.starts_with('0') {
        if !v.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
            return None;
        }
        return u32::from_str_radix(&v[1..], 8).ok();
    }
    parse_u32(v)
}
