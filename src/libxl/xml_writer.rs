//! A small XML writer producing libvirt's layout: two spaces per level, single-quoted
//! attributes, empty elements as `<x/>`, text escaped like virBufferEscapeString
//! (util/virbuffer.c). Foreign elements (`<metadata>` content) are written the way
//! libxml2's xmlNodeDump does, with double quotes.
use super::domain_def::{XmlElement, XmlNode};

/// Attributes of one element, in output order.
#[derive(Debug, Default)]
pub struct Attrs {
    list: Vec<(&'static str, String)>,
}

impl Attrs {
    pub fn new() -> Self {
        Attrs::default()
    }

    /// Adds `name='value'`.
    pub fn add(mut self, name: &'static str, value: impl ToString) -> Self {
        self.list.push((name, value.to_string()));
        self
    }

    /// Adds `name='value'` when `value` is set.
    pub fn opt<T: ToString>(mut self, name: &'static str, value: Option<T>) -> Self {
        if let Some(v) = value {
            self.list.push((name, v.to_string()));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The output buffer with its current indentation.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
    indent: usize,
}

impl XmlWriter {
    pub fn new() -> Self {
        XmlWriter::default()
    }

    /// A writer whose lines start `indent` spaces in.
    pub fn with_indent(indent: usize) -> Self {
        XmlWriter { buf: String::new(), indent }
    }

    pub fn into_string(self) -> String {
        self.buf
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn pad(&mut self) {
        for _ in 0..self.indent {
            self.buf.push(' ');
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &Attrs) {
        self.pad();
        self.buf.push('<');
        self.buf.push_str(name);
        for (k, v) in &attrs.list {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("='");
            escape_into(&mut self.buf, v);
            self.buf.push('\'');
        }
    }

    /// `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: Attrs) {
        self.start_tag(name, &attrs);
        self.buf.push_str("/>\n");
    }

    /// `<name attrs>text</name>`.
    pub fn text(&mut self, name: &str, attrs: Attrs, text: &str) {
        self.start_tag(name, &attrs);
        self.buf.push('>');
        escape_into(&mut self.buf, text);
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
    }

    /// `<name>text</name>` when `text` is set.
    pub fn opt_text(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.text(name, Attrs::new(), t);
        }
    }

    /// `<name attrs>`, children from `body`, `</name>`; `<name attrs/>` if `body` writes
    /// nothing (libvirt's childBuf pattern, virXMLFormatElement).
    pub fn elem(&mut self, name: &str, attrs: Attrs, body: impl FnOnce(&mut XmlWriter)) {
        let mut child = XmlWriter::with_indent(self.indent + 2);
        body(&mut child);
        if child.buf.is_empty() {
            self.empty(name, attrs);
        } else {
            self.start_tag(name, &attrs);
            self.buf.push_str(">\n");
            self.buf.push_str(&child.buf);
            self.pad();
            self.buf.push_str("</");
            self.buf.push_str(name);
            self.buf.push_str(">\n");
        }
    }

    /// `<name attrs>`, children from `body`, `</name>`, even when `body` writes nothing.
    pub fn block(&mut self, name: &str, attrs: Attrs, body: impl FnOnce(&mut XmlWriter)) {
        self.start_tag(name, &attrs);
        self.buf.push_str(">\n");
        self.indent += 2;
        body(self);
        self.indent -= 2;
        self.pad();
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
    }

    /// A foreign element, dumped as libxml2 does with formatting on: an element whose
    /// children are all elements gets one child per line; one with text is kept inline.
    // C: xmlNodeDump (libxml2), as virDomainDefFormatInternal uses it for metadata
    pub fn foreign(&mut self, el: &XmlElement) {
        self.pad();
        self.foreign_inner(el, true);
        self.buf.push('\n');
    }

    fn foreign_inner(&mut self, el: &XmlElement, format: bool) {
        self.buf.push('<');
        self.buf.push_str(&el.name);
        for (k, v) in &el.attrs {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_libxml_attr(&mut self.buf, v);
            self.buf.push('"');
        }
        if el.children.is_empty() {
            self.buf.push_str("/>");
            return;
        }
        self.buf.push('>');
        let format = format && el.children.iter().all(|c| matches!(c, XmlNode::Element(_)));
        for child in &el.children {
            match child {
                XmlNode::Text(t) => escape_libxml_text(&mut self.buf, t),
                XmlNode::Element(e) if format => {
                    self.buf.push('\n');
                    self.indent += 2;
                    self.pad();
                    self.foreign_inner(e, true);
                    self.indent -= 2;
                }
                XmlNode::Element(e) => self.foreign_inner(e, false),
            }
        }
        if format {
            self.buf.push('\n');
            self.pad();
        }
        self.buf.push_str("</");
        self.buf.push_str(&el.name);
        self.buf.push('>');
    }
}

/// Escapes text or an attribute value as virBufferEscapeString does: markup characters
/// become entities, control characters other than tab/newline/return are dropped.
// C: virBufferEscapeString
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
}

fn escape_libxml_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn escape_libxml_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}
