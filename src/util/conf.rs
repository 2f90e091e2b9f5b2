//! libvirt's configuration file format: parsed entries and typed getters (mirrors util/virconf.c).
//!
//! The grammar lives in `conf/parse.rs`; this file holds the parsed form, the errors
//! (their `Display` is the message libvirt puts in its error object, code prefix
//! included, e.g. "internal error: ..."), file reading and the `virConfGetValue*` getters.
//!
//! Where we differ from libvirt on purpose:
//! - an integer that does not fit 64 bits is a syntax error ("number out of range")
//!   where libvirt silently wraps it;
//! - lists nest at most `CONF_MAX_LIST_DEPTH` deep ("lists nested too deeply");
//! - an unsigned value above `i32::MAX` is out of range for `get_int` (libvirt's
//!   wrapped comparison lets 18446744073709551615 through as -1);
//! - strings that are not UTF-8 are converted lossily (U+FFFD).
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

#[cfg(test)]
mod getter_tests;
mod parse;
#[cfg(test)]
mod tests;

pub use parse::{CONF_MAX_ERRORS, CONF_MAX_LIST_DEPTH};

/// Largest file `Conf::read_file` accepts (libvirt's MAX_CONFIG_FILE_SIZE, 10 MiB).
pub const MAX_CONFIG_FILE_SIZE: usize = 10 * 1024 * 1024;

/// One value. A number written with a leading '-' is `Signed` (VIR_CONF_LLONG),
/// any other number is `Unsigned` (VIR_CONF_ULLONG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Signed(i64),
    Unsigned(u64),
    Str(String),
    List(Vec<Value>),
}

/// One `name = value` statement and the line its name is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: Value,
    pub line: u32,
}

/// A parsed file: its entries in file order, duplicates kept (lookups take the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    /// Name used in error messages (the path, or whatever the caller passed).
    pub filename: String,
    pub entries: Vec<Entry>,
}

/// What the parser expected when it stopped; `Display` gives libvirt's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxKind {
    ExpectingName,
    ExpectingAssignment,
    ExpectingValue,
    UnterminatedString,
    UnterminatedNumber,
    ExpectingListSeparator,
    ListNotClosed,
    ExpectingSeparator,
    /// Ours: the integer does not fit in 64 bits.
    NumberOutOfRange,
    /// Ours: more than `CONF_MAX_LIST_DEPTH` nested lists.
    ListTooDeep,
}

impl fmt::Display for SyntaxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyntaxKind::ExpectingName => "expecting a name",
            SyntaxKind::ExpectingAssignment => "expecting an assignment",
            SyntaxKind::ExpectingValue => "expecting a value",
            SyntaxKind::UnterminatedString => "unterminated string",
            SyntaxKind::UnterminatedNumber => "unterminated number",
            SyntaxKind::ExpectingListSeparator => "expecting a separator in list",
            SyntaxKind::ListNotClosed => "list is not closed with ]",
            SyntaxKind::ExpectingSeparator => "expecting a separator",
            SyntaxKind::NumberOutOfRange => "number out of range",
            SyntaxKind::ListTooDeep => "lists nested too deeply",
        })
    }
}

/// The type a getter wanted, worded as libvirt's "expected ... for '%s' parameter".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Bool,
    String,
    UnsignedInteger,
    SignedInteger,
    StringList,
    StringOrStringList,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Bool => "a bool",
            Expected::String => "a string",
            Expected::UnsignedInteger => "an unsigned integer",
            Expected::SignedInteger => "a signed integer",
            Expected::StringList => "a string list",
            Expected::StringOrStringList => "a string or string list",
        })
    }
}

/// Everything reading a file or getting a typed value can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfError {
    /// VIR_ERR_CONF_SYNTAX from the parser, with the line it stopped on.
    Syntax { file: String, line: u32, kind: SyntaxKind },
    /// open(2) failed (virFileReadAll).
    Open { file: String, errno: i32 },
    /// read(2) failed, or the file is larger than `MAX_CONFIG_FILE_SIZE` (EOVERFLOW).
    Read { file: String, errno: i32 },
    /// The entry exists with another type.
    WrongType { file: String, key: String, expected: Expected },
    /// A list holding something other than strings (libvirt reports VIR_ERR_CONF_SYNTAX).
    NotStringList { file: String, key: String },
    /// A bool given as an unsigned number other than 0 or 1.
    NotBool { file: String, key: String },
    /// A number outside the getter's range.
    OutOfRange { file: String, key: String, min: i128, max: i128 },
}

/// strerror(3) text for an errno, without Rust's " (os error N)" suffix.
pub(crate) fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfError::Syntax { file, line, kind } => {
                write!(f, "configuration file syntax error: {file}:{line}: {kind}")
            }
            ConfError::Open { file, errno } => {
                write!(f, "Failed to open file '{file}': {}", strerror(*errno))
            }
            ConfError::Read { file, errno } => {
                write!(f, "Failed to read file '{file}': {}", strerror(*errno))
            }
            ConfError::WrongType { file, key, expected } => {
                write!(f, "internal error: {file}: expected {expected} for '{key}' parameter")
            }
            ConfError::NotStringList { file, key } => {
                write!(f, "configuration file syntax error: {file}: expected a string list for '{key}' parameter")
            }
            ConfError::NotBool { file, key } => {
                write!(f, "internal error: {file}: value for '{key}' parameter must be 0 or 1")
            }
            ConfError::OutOfRange { file, key, min, max } => {
                write!(f, "internal error: {file}: value for '{key}' parameter must be in range {min}:{max}")
            }
        }
    }
}

impl std::error::Error for ConfError {}

fn errno_of(err: &std::io::Error) -> i32 {
    err.raw_os_error().unwrap_or(libc::EIO)
}

/// Reads a whole file of at most `MAX_CONFIG_FILE_SIZE` bytes.
// C: virFileReadAll
fn read_limited(path: &Path, name: &str) -> Result<Vec<u8>, ConfError> {
    let file = File::open(path).map_err(|e| ConfError::Open { file: name.to_string(), errno: errno_of(&e) })?;
    let mut text = Vec::new();
    file.take(MAX_CONFIG_FILE_SIZE as u64 + 1)
        .read_to_end(&mut text)
        .map_err(|e| ConfError::Read { file: name.to_string(), errno: errno_of(&e) })?;
    if text.len() > MAX_CONFIG_FILE_SIZE {
        return Err(ConfError::Read { file: name.to_string(), errno: libc::EOVERFLOW });
    }
    Ok(text)
}

impl Conf {
    /// Parses `text`, stopping at the first syntax error as libvirt does.
    // C: virConfParse
    pub fn parse(filename: &str, text: &[u8]) -> Result<Conf, ConfError> {
        let (entries, mut errors) = parse::parse(filename, text, 1);
        match errors.pop() {
            Some(err) => Err(err),
            None => Ok(Conf { filename: filename.to_string(), entries }),
        }
    }

    /// Parses `text` and reports every syntax error (at most `CONF_MAX_ERRORS`):
    /// after an error the parser resumes at the next line that can start a statement.
    /// The entries are those that parsed cleanly.
    pub fn parse_all(filename: &str, text: &[u8]) -> (Conf, Vec<ConfError>) {
        let (entries, errors) = parse::parse(filename, text, CONF_MAX_ERRORS);
        (Conf { filename: filename.to_string(), entries }, errors)
    }

    /// Reads and parses a file; errors name the path as given.
    // C: virConfReadFile
    pub fn read_file(path: &Path) -> Result<Conf, ConfError> {
        let name = path.to_string_lossy().into_owned();
        let text = read_limited(path, &name)?;
        Conf::parse(&name, &text)
    }

    /// Like `read_file` but collects every syntax error (`parse_all`).
    pub fn read_file_all(path: &Path) -> (Conf, Vec<ConfError>) {
        let name = path.to_string_lossy().into_owned();
        match read_limited(path, &name) {
            Ok(text) => Conf::parse_all(&name, &text),
            Err(err) => (Conf { filename: name, entries: Vec::new() }, vec![err]),
        }
    }

    /// The first entry called `key`.
    // C: virConfGetValue
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == key)
    }

    fn wrong_type(&self, key: &str, expected: Expected) -> ConfError {
        ConfError::WrongType { file: self.filename.clone(), key: key.to_string(), expected }
    }

    fn out_of_range(&self, key: &str, min: i128, max: i128) -> ConfError {
        ConfError::OutOfRange { file: self.filename.clone(), key: key.to_string(), min, max }
    }

    // C: virConfGetValueString
    pub fn get_string(&self, key: &str) -> Result<Option<String>, ConfError> {
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong_type(key, Expected::String)),
        }
    }

    /// A list of strings; with `compat_string` a lone string is a list of one.
    // C: virConfGetValueStringList
    pub fn get_string_list(&self, key: &str, compat_string: bool) -> Result<Option<Vec<String>>, ConfError> {
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Str(s) => out.push(s.clone()),
                        _ => return Err(ConfError::NotStringList { file: self.filename.clone(), key: key.to_string() }),
                    }
                }
                Ok(Some(out))
            }
            Some(Value::Str(s)) if compat_string => Ok(Some(vec![s.clone()])),
            Some(_) if compat_string => Err(self.wrong_type(key, Expected::StringOrStringList)),
            Some(_) => Err(self.wrong_type(key, Expected::StringList)),
        }
    }

    /// 0 or 1, written without a sign.
    // C: virConfGetValueBool
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, ConfError> {
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Unsigned(0)) => Ok(Some(false)),
            Some(Value::Unsigned(1)) => Ok(Some(true)),
            Some(Value::Unsigned(_)) => Err(ConfError::NotBool { file: self.filename.clone(), key: key.to_string() }),
            Some(_) => Err(self.wrong_type(key, Expected::Bool)),
        }
    }

    // C: virConfGetValueInt
    pub fn get_int(&self, key: &str) -> Result<Option<i32>, ConfError> {
        let range = || self.out_of_range(key, i32::MIN.into(), i32::MAX.into());
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Signed(v)) => i32::try_from(*v).map(Some).map_err(|_| range()),
            Some(Value::Unsigned(v)) => i32::try_from(*v).map(Some).map_err(|_| range()),
            Some(_) => Err(self.wrong_type(key, Expected::SignedInteger)),
        }
    }

    // C: virConfGetValueUInt
    pub fn get_uint(&self, key: &str) -> Result<Option<u32>, ConfError> {
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Unsigned(v)) => u32::try_from(*v).map(Some).map_err(|_| self.out_of_range(key, 0, u32::MAX.into())),
            Some(_) => Err(self.wrong_type(key, Expected::UnsignedInteger)),
        }
    }

    // C: virConfGetValueLLong
    pub fn get_llong(&self, key: &str) -> Result<Option<i64>, ConfError> {
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Signed(v)) => Ok(Some(*v)),
            Some(Value::Unsigned(v)) => i64::try_from(*v).map(Some).map_err(|_| self.out_of_range(key, i64::MIN.into(), i64::MAX.into())),
            Some(_) => Err(self.wrong_type(key, Expected::SignedInteger)),
        }
    }

    // C: virConfGetValueULLong
    pub fn get_ullong(&self, key: &str) -> Result<Option<u64>, ConfError> {
        match self.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Unsigned(v)) => Ok(Some(*v)),
            Some(_) => Err(self.wrong_type(key, Expected::UnsignedInteger)),
        }
    }
}

/// Fuzz entry point (fuzz/fuzz_targets/), also replayed over the corpus by t/fuzz_corpus.rs:
/// both parsers, then every getter on every key, formatting every error.
pub fn fuzz_target(data: &[u8]) {
    let strict = Conf::parse("fuzz", data);
    let (conf, errors) = Conf::parse_all("fuzz", data);
    assert!(errors.len() <= CONF_MAX_ERRORS);
    match &strict {
        // Both parsers agree on the first problem, and on a clean file.
        Err(first) => assert_eq!(errors.first(), Some(first)),
        Ok(clean) => {
            assert!(errors.is_empty());
            assert_eq!(clean, &conf);
        }
    }
    let mut sink = String::new();
    for err in &errors {
        sink.push_str(&err.to_string());
    }
    for entry in &conf.entries {
        let key = entry.name.as_str();
        for text in [
            conf.get_string(key).err(),
            conf.get_string_list(key, false).err(),
            conf.get_string_list(key, true).err(),
            conf.get_bool(key).err(),
            conf.get_int(key).err(),
            conf.get_uint(key).err(),
            conf.get_llong(key).err(),
            conf.get_ullong(key).err(),
        ]
        .into_iter()
        .flatten()
        {
            sink.push_str(&text.to_string());
        }
    }
    std::hint::black_box(sink);
}
