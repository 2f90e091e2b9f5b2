//! The grammar of libvirt's config files (mirrors the parser half of util/virconf.c).
//!
//! A file is a sequence of statements `name = value` separated by a newline or ';'.
//! Names start with an ASCII letter and go on with letters, digits and '_'. Blanks are
//! space and tab; '\r' and '\n' both end a line but only '\n' counts one. '#' starts a
//! comment that runs to the end of the line, either as a whole statement or after a
//! value (never inside a list). Values are decimal integers with an optional sign,
//! strings in '...' or "..." (one line, no escapes), """...""" strings that may span
//! lines, and lists `[ v, v, ]` that may span lines and nest.
//!
//! The cursor reads byte 0 past the end, as the C parser reads the terminating NUL of
//! its buffer; several checks depend on that ("expecting a name" for a file holding
//! only blank lines, for one).
use super::{ConfError, Entry, SyntaxKind, Value};

/// Deepest list nesting accepted (ours; libvirt recurses without a bound).
pub const CONF_MAX_LIST_DEPTH: usize = 64;

/// Most syntax errors `Conf::parse_all` reports before it gives up.
pub const CONF_MAX_ERRORS: usize = 100;

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    line: u32,
    entries: Vec<Entry>,
}

fn is_eol(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Bytes of a string value: cut at an embedded NUL (as g_strndup does), UTF-8 lossily.
fn string_of(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

type Step<T> = Result<T, SyntaxKind>;

impl<'a> Parser<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn cur(&self) -> u8 {
        self.text.get(self.pos).copied().unwrap_or(0)
    }

    fn next(&mut self) {
        if !self.at_end() {
            self.pos += 1;
        }
    }

    fn skip_blanks(&mut self) {
        while !self.at_end() && is_blank(self.cur()) {
            self.pos += 1;
        }
    }

    fn skip_blanks_and_eol(&mut self) {
        while !self.at_end() && (is_blank(self.cur()) || is_eol(self.cur())) {
            if self.cur() == b'\n' {
                self.line = self.line.saturating_add(1);
            }
            self.pos += 1;
        }
    }

    fn skip_to_eol(&mut self) {
        while !self.at_end() && !is_eol(self.cur()) {
            self.pos += 1;
        }
    }

    fn starts_triple_quote(&self) -> bool {
        self.text[self.pos.min(self.text.len())..].starts_with(b"\"\"\"")
    }

    // C: virConfParseLong
    fn parse_number(&mut self) -> Step<Value> {
        let negative = self.cur() == b'-';
        if negative || self.cur() == b'+' {
            self.next();
        }
        if self.at_end() || !self.cur().is_ascii_digit() {
            return Err(SyntaxKind::UnterminatedNumber);
        }
        // Anything above 2^64 is out of range either way: stop growing there.
        const CAP: u128 = 1 << 64;
        let mut magnitude: u128 = 0;
        while !self.at_end() && self.cur().is_ascii_digit() {
            magnitude = (magnitude * 10 + u128::from(self.cur() - b'0')).min(CAP);
            self.next();
        }
        if negative {
            if magnitude > 1 << 63 {
                return Err(SyntaxKind::NumberOutOfRange);
            }
            // -(2^63) is i64::MIN; every smaller magnitude negates in range.
            Ok(Value::Signed((-(magnitude as i128)) as i64))
        } else {
            u64::try_from(magnitude).map(Value::Unsigned).map_err(|_| SyntaxKind::NumberOutOfRange)
        }
    }

    /// A quoted string of one line, the cursor on its opening `quote`.
    fn parse_quoted(&mut self, quote: u8) -> Step<String> {
        self.next();
        let base = self.pos;
        while !self.at_end() && self.cur() != quote && !is_eol(self.cur()) {
            self.pos += 1;
        }
        if self.cur() != quote {
            return Err(SyntaxKind::UnterminatedString);
        }
        let value = string_of(&self.text[base..self.pos]);
        self.next();
        Ok(value)
    }

    // C: virConfParseString
    fn parse_string(&mut self) -> Step<String> {
        if self.cur() == b'\'' {
            return self.parse_quoted(b'\'');
        }
        // Like libvirt, a triple quote needs seven bytes left to count as one.
        if self.pos + 6 < self.text.len() && self.starts_triple_quote() {
            self.pos += 3;
            let base = self.pos;
            while self.pos + 2 < self.text.len() && !self.starts_triple_quote() {
                if self.cur() == b'\n' {
                    self.line = self.line.saturating_add(1);
                }
                self.pos += 1;
            }
            if !self.starts_triple_quote() {
                return Err(SyntaxKind::UnterminatedString);
            }
            let value = string_of(&self.text[base..self.pos]);
            self.pos += 3;
            return Ok(value);
        }
        if self.cur() == b'"' {
            return self.parse_quoted(b'"');
        }
        Err(SyntaxKind::ExpectingValue)
    }

    /// A list, the cursor on its '['; `depth` counts the lists around it.
    fn parse_list(&mut self, depth: usize) -> Step<Value> {
        if depth >= CONF_MAX_LIST_DEPTH {
            return Err(SyntaxKind::ListTooDeep);
        }
        self.next();
        self.skip_blanks_and_eol();
        let mut items = Vec::new();
        if !self.at_end() && self.cur() != b']' {
            items.push(self.parse_value(depth + 1)?);
            self.skip_blanks_and_eol();
        }
        while !self.at_end() && self.cur() != b']' {
            if self.cur() != b',' {
                return Err(SyntaxKind::ExpectingListSeparator);
            }
            self.next();
            self.skip_blanks_and_eol();
            if self.cur() == b']' {
                break;
            }
            items.push(self.parse_value(depth + 1)?);
            self.skip_blanks_and_eol();
        }
        if self.cur() != b']' {
            return Err(SyntaxKind::ListNotClosed);
        }
        self.next();
        Ok(Value::List(items))
    }

    // C: virConfParseValue
    fn parse_value(&mut self, depth: usize) -> Step<Value> {
        self.skip_blanks();
        if self.at_end() {
            return Err(SyntaxKind::ExpectingValue);
        }
        match self.cur() {
            b'"' | b'\'' => self.parse_string().map(Value::Str),
            b'[' => self.parse_list(depth),
            b'0'..=b'9' | b'-' | b'+' => self.parse_number(),
            _ => Err(SyntaxKind::ExpectingValue),
        }
    }

    // C: virConfParseName
    fn parse_name(&mut self) -> Step<String> {
        self.skip_blanks();
        if !self.cur().is_ascii_alphabetic() {
            return Err(SyntaxKind::ExpectingName);
        }
        let base = self.pos;
        while !self.at_end() && (self.cur().is_ascii_alphanumeric() || self.cur() == b'_') {
            self.pos += 1;
        }
        Ok(string_of(&self.text[base..self.pos]))
    }

    // C: virConfParseStatement
    fn parse_statement(&mut self) -> Step<()> {
        self.skip_blanks_and_eol();
        if self.cur() == b'#' {
            self.skip_to_eol();
            return Ok(());
        }
        let line = self.line;
        let name = self.parse_name()?;
        self.skip_blanks();
        if self.cur() != b'=' {
            return Err(SyntaxKind::ExpectingAssignment);
        }
        self.next();
        self.skip_blanks();
        let value = self.parse_value(0)?;
        self.skip_blanks();
        if self.cur() == b'#' {
            self.skip_to_eol();
        }
        self.entries.push(Entry { name, value, line });
        Ok(())
    }

    // C: virConfParseSeparator
    fn parse_separator(&mut self) -> Step<()> {
        self.skip_blanks();
        if self.at_end() {
            return Ok(());
        }
        if is_eol(self.cur()) {
            self.skip_blanks_and_eol();
        } else if self.cur() == b';' {
            self.next();
            self.skip_blanks_and_eol();
        } else {
            return Err(SyntaxKind::ExpectingSeparator);
        }
        Ok(())
    }

    /// After an error: go to the next line that could start a statement (its first
    /// non-blank byte is a letter or '#'), skipping the rest of a broken list or string
    /// and any blank lines, as a separator would.
    fn recover(&mut self) {
        loop {
            while !self.at_end() && self.cur() != b'\n' {
                self.pos += 1;
            }
            self.skip_blanks_and_eol();
            if self.at_end() || self.cur().is_ascii_alphabetic() || self.cur() == b'#' {
                return;
            }
        }
    }
}

/// Parses `text`, stopping after `max_errors` syntax errors (1 = libvirt's behaviour).
// C: virConfParse
pub(super) fn parse(filename: &str, text: &[u8], max_errors: usize) -> (Vec<Entry>, Vec<ConfError>) {
    let mut parser = Parser { text, pos: 0, line: 1, entries: Vec::new() };
    let mut errors = Vec::new();
    while !parser.at_end() {
        let step = parser.parse_statement().and_then(|()| parser.parse_separator());
        if let Err(kind) = step {
            errors.push(ConfError::Syntax { file: filename.to_string(), line: parser.line, kind });
            if errors.len() >= max_errors {
                break;
            }
            parser.recover();
        }
    }
    (parser.entries, errors)
}
