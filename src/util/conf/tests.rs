//! Unit tests of the config grammar: every value form, separator, comment and error.
use super::*;

fn parse(text: &str) -> Result<Conf, ConfError> {
    Conf::parse("test.conf", text.as_bytes())
}

fn value(text: &str) -> Value {
    let conf = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(conf.entries.len(), 1, "{text:?}");
    conf.entries[0].value.clone()
}

fn syntax_error(text: &[u8]) -> String {
    match Conf::parse("test.conf", text) {
        Err(err) => err.to_string(),
        Ok(conf) => panic!("{text:?} parsed: {conf:?}"),
    }
}

fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

fn entry(name: &str, value: Value, line: u32) -> Entry {
    Entry { name: name.to_string(), value, line }
}

// ---- values ----

#[test]
fn number_without_sign_is_unsigned() {
    assert_eq!(value("a = 42"), Value::Unsigned(42));
}

#[test]
fn number_with_plus_is_unsigned() {
    assert_eq!(value("a = +7"), Value::Unsigned(7));
}

#[test]
fn number_with_minus_is_signed() {
    assert_eq!(value("a = -7"), Value::Signed(-7));
}

#[test]
fn minus_zero_is_signed_zero() {
    assert_eq!(value("a = -0"), Value::Signed(0));
}

#[test]
fn number_extremes_parse() {
    assert_eq!(value("a = 18446744073709551615"), Value::Unsigned(u64::MAX));
    assert_eq!(value("a = -9223372036854775808"), Value::Signed(i64::MIN));
}

#[test]
fn number_above_u64_is_error() {
    assert_eq!(syntax_error(b"a = 18446744073709551616"), "configuration file syntax error: test.conf:1: number out of range");
}

#[test]
fn number_below_i64_is_error() {
    assert_eq!(syntax_error(b"a = -9223372036854775809"), "configuration file syntax error: test.conf:1: number out of range");
}

#[test]
fn number_of_many_digits_is_error_not_panic() {
    let text = format!("a = {}\n", "9".repeat(100_000));
    assert_eq!(syntax_error(text.as_bytes()), "configuration file syntax error: test.conf:1: number out of range");
}

#[test]
fn single_quoted_string_parses() {
    assert_eq!(value("a = 'x \"y\" z'"), s("x \"y\" z"));
}

#[test]
fn double_quoted_string_parses() {
    assert_eq!(value("a = \"x 'y' # z\""), s("x 'y' # z"));
}

#[test]
fn string_has_no_escapes() {
    assert_eq!(value(r#"a = "c:\n\t""#), s(r"c:\n\t"));
}

#[test]
fn empty_strings_parse() {
    assert_eq!(value("a = ''"), s(""));
    assert_eq!(value("a = \"\"\n"), s(""));
}

#[test]
fn triple_quoted_string_spans_lines() {
    let conf = parse("a = \"\"\"one\ntwo \"quoted\"\n\"\"\"\nb = 1\n").unwrap();
    assert_eq!(conf.entries, vec![entry("a", s("one\ntwo \"quoted\"\n"), 1), entry("b", Value::Unsigned(1), 4)]);
}

#[test]
fn triple_quote_needs_seven_bytes_left() {
    // As in libvirt: with only six bytes left, """""" is "" followed by stray quotes.
    assert_eq!(syntax_error(b"a = \"\"\"\"\"\""), "configuration file syntax error: test.conf:1: expecting a separator");
    assert_eq!(value("a = \"\"\"\"\"\"\n"), s(""));
}

#[test]
fn string_with_nul_is_cut_there() {
    assert_eq!(Conf::parse("t", b"a = 'ab\0cd'").unwrap().entries[0].value, s("ab"));
}

#[test]
fn string_not_utf8_is_converted_lossily() {
    assert_eq!(Conf::parse("t", b"a = '\xffx'").unwrap().entries[0].value, s("\u{fffd}x"));
}

#[test]
fn empty_list_parses() {
    assert_eq!(value("a = []"), Value::List(vec![]));
    assert_eq!(value("a = [ \n ]"), Value::List(vec![]));
}

#[test]
fn list_spans_lines_with_trailing_comma() {
    let conf = parse("a = [\n  \"x\",\n  'y',\n]\nb = 2\n").unwrap();
    assert_eq!(conf.entries, vec![entry("a", Value::List(vec![s("x"), s("y")]), 1), entry("b", Value::Unsigned(2), 5)]);
}

#[test]
fn list_mixes_types_and_nests() {
    assert_eq!(
        value("a = [1, -2, 'x', [\"y\", []]]"),
        Value::List(vec![Value::Unsigned(1), Value::Signed(-2), s("x"), Value::List(vec![s("y"), Value::List(vec![])]),])
    );
}

#[test]
fn list_nesting_at_limit_parses() {
    let text = format!("a = {}{}", "[".repeat(CONF_MAX_LIST_DEPTH), "]".repeat(CONF_MAX_LIST_DEPTH));
    assert!(parse(&text).is_ok());
}

#[test]
fn list_nesting_over_limit_is_error() {
    let depth = CONF_MAX_LIST_DEPTH + 1;
    let text = format!("a = {}{}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(syntax_error(text.as_bytes()), "configuration file syntax error: test.conf:1: lists nested too deeply");
}

#[test]
fn hundred_thousand_open_brackets_error_without_overflow() {
    let text = format!("a = {}", "[".repeat(100_000));
    assert_eq!(syntax_error(text.as_bytes()), "configuration file syntax error: test.conf:1: lists nested too deeply");
    let (_, errors) = Conf::parse_all("test.conf", text.as_bytes());
    assert_eq!(errors.len(), 1);
}

// ---- statements, separators, comments, lines ----

#[test]
fn semicolon_separates_statements() {
    let conf = parse("a = 1; b = 'x' ;c=2").unwrap();
    let names: Vec<_> = conf.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn comments_are_skipped() {
    let conf = parse("# head\n  # indented\na = 1 # after\n#tail").unwrap();
    assert_eq!(conf.entries, vec![entry("a", Value::Unsigned(1), 3)]);
}

#[test]
fn names_take_digits_and_underscores() {
    assert_eq!(parse("Ab_9 = 1").unwrap().entries[0].name, "Ab_9");
}

#[test]
fn blank_lines_and_indent_are_skipped() {
    let conf = parse("\n\n\t  a\t=\t1\t\n\n\nb=2").unwrap();
    assert_eq!(conf.entries, vec![entry("a", Value::Unsigned(1), 3), entry("b", Value::Unsigned(2), 6)]);
}

#[test]
fn crlf_line_endings_parse_and_count_lines() {
    let conf = parse("a = 1\r\n\r\nb = 'x'\r\nc = [\r\n 1,\r\n]\r\n").unwrap();
    assert_eq!(
        conf.entries,
        vec![entry("a", Value::Unsigned(1), 1), entry("b", s("x"), 3), entry("c", Value::List(vec![Value::Unsigned(1)]), 4),]
    );
}

#[test]
fn lone_cr_separates_without_counting_a_line() {
    let conf = parse("a = 1\rb = 2").unwrap();
    assert_eq!(conf.entries, vec![entry("a", Value::Unsigned(1), 1), entry("b", Value::Unsigned(2), 1)]);
}

#[test]
fn missing_final_newline_parses() {
    assert_eq!(parse("a = 1\nb = 'x'").unwrap().entries.len(), 2);
    assert_eq!(parse("a = 1\n# end").unwrap().entries.len(), 1);
}

#[test]
fn empty_file_has_no_entries() {
    assert_eq!(parse("").unwrap().entries, vec![]);
}

#[test]
fn blank_only_file_expects_a_name() {
    // libvirt's parser reads past the blanks and finds no name.
    assert_eq!(syntax_error(b"\n \n"), "configuration file syntax error: test.conf:3: expecting a name");
}

#[test]
fn duplicate_key_keeps_both_and_first_wins() {
    let conf = parse("a = 'first'\na = 'second'\n").unwrap();
    assert_eq!(conf.entries.len(), 2);
    assert_eq!(conf.get_string("a").unwrap().as_deref(), Some("first"));
    assert_eq!(conf.get("a").map(|e| e.line), Some(1));
}

#[test]
fn golden_file_gives_exact_entries() {
    let text = "# sample\n\
                listen_tls = 0\n\
                tcp_port = \"16509\"   # inline\n\
                access_drivers = [ \"polkit\",\n   \"none\" ]\n\
                \n\
                keepalive_interval = -1; keepalive_count = 5\n\
                host_uuid = '00000000-0000-0000-0000-000000000001'\n\
                motd = \"\"\"a\nb\"\"\"\n\
                empty = []\n";
    let conf = Conf::parse("/etc/libvirt/x.conf", text.as_bytes()).unwrap();
    assert_eq!(conf.filename, "/etc/libvirt/x.conf");
    assert_eq!(
        conf.entries,
        vec![
            entry("listen_tls", Value::Unsigned(0), 2),
            entry("tcp_port", s("16509"), 3),
            entry("access_drivers", Value::List(vec![s("polkit"), s("none")]), 4),
            entry("keepalive_interval", Value::Signed(-1), 7),
            entry("keepalive_count", Value::Unsigned(5), 7),
            entry("host_uuid", s("00000000-0000-0000-0000-000000000001"), 8),
            entry("motd", s("a\nb"), 9),
            entry("empty", Value::List(vec![]), 11),
        ]
    );
}

// ---- syntax errors: exact text and line ----

#[test]
fn statement_without_name_is_error() {
    assert_eq!(syntax_error(b"a = 1\n= 2\n"), "configuration file syntax error: test.conf:2: expecting a name");
}

#[test]
fn name_starting_with_digit_is_error() {
    assert_eq!(syntax_error(b"1a = 2"), "configuration file syntax error: test.conf:1: expecting a name");
}

#[test]
fn empty_statement_between_semicolons_is_error() {
    assert_eq!(syntax_error(b"a = 1;;b = 2"), "configuration file syntax error: test.conf:1: expecting a name");
}

#[test]
fn name_without_equals_is_error() {
    assert_eq!(syntax_error(b"\n\nabc 1"), "configuration file syntax error: test.conf:3: expecting an assignment");
}

#[test]
fn dotted_name_is_error() {
    assert_eq!(syntax_error(b"a.b = 1"), "configuration file syntax error: test.conf:1: expecting an assignment");
}

#[test]
fn missing_value_at_end_of_line_is_error() {
    assert_eq!(syntax_error(b"a =\nb = 1"), "configuration file syntax error: test.conf:1: expecting a value");
}

#[test]
fn missing_value_at_end_of_file_is_error() {
    assert_eq!(syntax_error(b"a = "), "configuration file syntax error: test.conf:1: expecting a value");
}

#[test]
fn bare_word_value_is_error() {
    assert_eq!(syntax_error(b"a = yes"), "configuration file syntax error: test.conf:1: expecting a value");
}

#[test]
fn string_broken_by_newline_is_error() {
    assert_eq!(syntax_error(b"a = 'abc\n'"), "configuration file syntax error: test.conf:1: unterminated string");
    assert_eq!(syntax_error(b"a = \"abc\r\n"), "configuration file syntax error: test.conf:1: unterminated string");
}

#[test]
fn string_unterminated_at_end_is_error() {
    assert_eq!(syntax_error(b"\na = \"abc"), "configuration file syntax error: test.conf:2: unterminated string");
}

#[test]
fn triple_string_unterminated_counts_its_lines() {
    // As in libvirt, the search for the closing quotes stops two bytes short of the end,
    // so the last two newlines are not counted.
    assert_eq!(syntax_error(b"a = \"\"\"x\ny\nz\n\n"), "configuration file syntax error: test.conf:3: unterminated string");
}

#[test]
fn sign_without_digits_is_error() {
    assert_eq!(syntax_error(b"a = -"), "configuration file syntax error: test.conf:1: unterminated number");
    assert_eq!(syntax_error(b"a = +x"), "configuration file syntax error: test.conf:1: unterminated number");
}

#[test]
fn list_items_without_comma_are_error() {
    assert_eq!(syntax_error(b"a = [\n1\n2]"), "configuration file syntax error: test.conf:3: expecting a separator in list");
}

#[test]
fn comment_after_list_item_is_error() {
    assert_eq!(syntax_error(b"a = [ 1, # one\n 2 ]"), "configuration file syntax error: test.conf:1: expecting a value");
    assert_eq!(syntax_error(b"a = [ 1 # one\n, 2 ]"), "configuration file syntax error: test.conf:1: expecting a separator in list");
}

#[test]
fn comment_after_open_bracket_is_error() {
    assert_eq!(syntax_error(b"a = [ # none\n]"), "configuration file syntax error: test.conf:1: expecting a value");
}

#[test]
fn list_unclosed_at_end_is_error() {
    assert_eq!(syntax_error(b"a = [1\n"), "configuration file syntax error: test.conf:2: list is not closed with ]");
}

#[test]
fn list_ending_in_comma_at_end_is_error() {
    assert_eq!(syntax_error(b"a = [1,"), "configuration file syntax error: test.conf:1: expecting a value");
}

#[test]
fn two_statements_on_a_line_is_error() {
    assert_eq!(syntax_error(b"a = 1 b = 2"), "configuration file syntax error: test.conf:1: expecting a separator");
}

#[test]
fn number_glued_to_word_is_error() {
    assert_eq!(syntax_error(b"a = 12abc"), "configuration file syntax error: test.conf:1: expecting a separator");
}

#[test]
fn syntax_error_carries_kind_and_line() {
    assert_eq!(
        Conf::parse("f", b"x = 1\ny = [2 3]"),
        Err(ConfError::Syntax { file: "f".into(), line: 2, kind: SyntaxKind::ExpectingListSeparator })
    );
}

// ---- parse_all ----

#[test]
fn parse_all_reports_every_error_with_lines() {
    let text = "a = 1\nb =\nc = 'x\nd = 2\ne f\n";
    let (conf, errors) = Conf::parse_all("t", text.as_bytes());
    let lines: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        [
            "configuration file syntax error: t:2: expecting a value",
            "configuration file syntax error: t:3: unterminated string",
            "configuration file syntax error: t:5: expecting an assignment",
        ]
    );
    let names: Vec<_> = conf.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "d"]);
}

#[test]
fn parse_all_skips_rest_of_broken_list() {
    let text = "a = [\n  'x'\n  'y',\n  'z',\n]\nb = 1\n";
    let (conf, errors) = Conf::parse_all("t", text.as_bytes());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].to_string(), "configuration file syntax error: t:3: expecting a separator in list");
    assert_eq!(conf.entries, vec![entry("b", Value::Unsigned(1), 6)]);
}

#[test]
fn parse_all_ignores_blank_tail_after_error() {
    let (_, errors) = Conf::parse_all("t", b"a =\n\n  \n");
    assert_eq!(errors.len(), 1);
}

#[test]
fn parse_all_first_error_matches_parse() {
    let text = b"ok = 1\nbad bad\nworse = [\n";
    let first = Conf::parse("t", text).unwrap_err();
    assert_eq!(Conf::parse_all("t", text).1.first(), Some(&first));
}

#[test]
fn parse_all_stops_at_error_limit() {
    let text = "x\n".repeat(CONF_MAX_ERRORS * 3);
    let (_, errors) = Conf::parse_all("t", text.as_bytes());
    assert_eq!(errors.len(), CONF_MAX_ERRORS);
}

#[test]
fn parse_all_skips_lines_that_cannot_start_a_statement() {
    let (_, errors) = Conf::parse_all("t", "?\n".repeat(50).as_bytes());
    assert_eq!(errors.len(), 1);
}

#[test]
fn parse_all_clean_file_has_no_errors() {
    let (conf, errors) = Conf::parse_all("t", b"a = 1\n");
    assert!(errors.is_empty());
    assert_eq!(conf.entries.len(), 1);
}
