//! Unit tests of file reading and of the typed getters (virConfGetValue*).
use super::*;

// ---- files ----

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("virtlite-conf-{}-{name}", std::process::id()))
}

#[test]
fn read_file_parses_and_names_file() {
    let path = temp_path("ok.conf");
    std::fs::write(&path, "a = 'b'\n").unwrap();
    let conf = Conf::read_file(&path);
    std::fs::remove_file(&path).unwrap();
    let conf = conf.unwrap();
    assert_eq!(conf.filename, path.to_string_lossy());
    assert_eq!(conf.get_string("a").unwrap().as_deref(), Some("b"));
}

#[test]
fn read_file_missing_is_open_error() {
    let err = Conf::read_file(Path::new("/nonexistent-virtlite/x.conf")).unwrap_err();
    assert_eq!(err.to_string(), "Failed to open file '/nonexistent-virtlite/x.conf': No such file or directory");
}

#[test]
fn read_file_directory_is_read_error() {
    let err = Conf::read_file(Path::new("/")).unwrap_err();
    assert_eq!(err.to_string(), "Failed to read file '/': Is a directory");
}

#[test]
fn read_file_over_limit_is_overflow_error() {
    let path = temp_path("big.conf");
    std::fs::write(&path, vec![b'#'; MAX_CONFIG_FILE_SIZE + 1]).unwrap();
    let err = Conf::read_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(err.unwrap_err(), ConfError::Read { file: path.to_string_lossy().into_owned(), errno: libc::EOVERFLOW });
}

#[test]
fn read_file_at_limit_parses() {
    let path = temp_path("limit.conf");
    let mut text = vec![b'#'; MAX_CONFIG_FILE_SIZE];
    text[MAX_CONFIG_FILE_SIZE - 1] = b'\n';
    std::fs::write(&path, text).unwrap();
    let conf = Conf::read_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(conf.unwrap().entries.is_empty());
}

#[test]
fn read_file_all_collects_syntax_errors() {
    let path = temp_path("all.conf");
    std::fs::write(&path, "a =\nb =\n").unwrap();
    let (_, errors) = Conf::read_file_all(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(errors.len(), 2);
}

#[test]
fn read_file_all_missing_gives_open_error() {
    let (conf, errors) = Conf::read_file_all(Path::new("/nonexistent-virtlite/y.conf"));
    assert!(conf.entries.is_empty());
    assert!(matches!(errors.as_slice(), [ConfError::Open { errno, .. }] if *errno == libc::ENOENT));
}

// ---- getters ----

fn conf(text: &str) -> Conf {
    Conf::parse("/etc/x.conf", text.as_bytes()).unwrap()
}

fn err_text(r: Result<impl std::fmt::Debug, ConfError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn getters_on_missing_key_give_none() {
    let c = conf("a = 1");
    assert_eq!(c.get_string("b"), Ok(None));
    assert_eq!(c.get_string_list("b", true), Ok(None));
    assert_eq!(c.get_bool("b"), Ok(None));
    assert_eq!(c.get_int("b"), Ok(None));
    assert_eq!(c.get_uint("b"), Ok(None));
    assert_eq!(c.get_llong("b"), Ok(None));
    assert_eq!(c.get_ullong("b"), Ok(None));
}

#[test]
fn get_string_on_number_is_type_error() {
    assert_eq!(err_text(conf("k = 1").get_string("k")), "internal error: /etc/x.conf: expected a string for 'k' parameter");
}

#[test]
fn get_string_list_reads_list() {
    assert_eq!(conf("k = ['a', \"b\"]").get_string_list("k", false), Ok(Some(vec!["a".into(), "b".into()])));
    assert_eq!(conf("k = []").get_string_list("k", false), Ok(Some(vec![])));
}

#[test]
fn get_string_list_with_number_item_is_syntax_error() {
    assert_eq!(
        err_text(conf("k = ['a', 1]").get_string_list("k", false)),
        "configuration file syntax error: /etc/x.conf: expected a string list for 'k' parameter"
    );
}

#[test]
fn get_string_list_on_string_without_compat_is_error() {
    assert_eq!(
        err_text(conf("k = 'a'").get_string_list("k", false)),
        "internal error: /etc/x.conf: expected a string list for 'k' parameter"
    );
}

#[test]
fn get_string_list_on_string_with_compat_is_one_item() {
    assert_eq!(conf("k = 'a'").get_string_list("k", true), Ok(Some(vec!["a".into()])));
}

#[test]
fn get_string_list_on_number_with_compat_is_error() {
    assert_eq!(
        err_text(conf("k = 1").get_string_list("k", true)),
        "internal error: /etc/x.conf: expected a string or string list for 'k' parameter"
    );
}

#[test]
fn get_bool_reads_zero_and_one() {
    assert_eq!(conf("k = 0").get_bool("k"), Ok(Some(false)));
    assert_eq!(conf("k = +1").get_bool("k"), Ok(Some(true)));
}

#[test]
fn get_bool_on_two_is_error() {
    assert_eq!(err_text(conf("k = 2").get_bool("k")), "internal error: /etc/x.conf: value for 'k' parameter must be 0 or 1");
}

#[test]
fn get_bool_on_signed_or_string_is_type_error() {
    let want = "internal error: /etc/x.conf: expected a bool for 'k' parameter";
    assert_eq!(err_text(conf("k = -0").get_bool("k")), want);
    assert_eq!(err_text(conf("k = 'yes'").get_bool("k")), want);
}

#[test]
fn get_uint_reads_max() {
    assert_eq!(conf("k = 4294967295").get_uint("k"), Ok(Some(u32::MAX)));
}

#[test]
fn get_uint_over_max_is_range_error() {
    assert_eq!(
        err_text(conf("k = 4294967296").get_uint("k")),
        "internal error: /etc/x.conf: value for 'k' parameter must be in range 0:4294967295"
    );
}

#[test]
fn get_uint_on_negative_is_type_error() {
    assert_eq!(err_text(conf("k = -1").get_uint("k")), "internal error: /etc/x.conf: expected an unsigned integer for 'k' parameter");
}

#[test]
fn get_int_reads_both_signs() {
    assert_eq!(conf("k = -2147483648").get_int("k"), Ok(Some(i32::MIN)));
    assert_eq!(conf("k = 2147483647").get_int("k"), Ok(Some(i32::MAX)));
}

#[test]
fn get_int_out_of_range_is_error() {
    let want = "internal error: /etc/x.conf: value for 'k' parameter must be in range -2147483648:2147483647";
    assert_eq!(err_text(conf("k = 2147483648").get_int("k")), want);
    assert_eq!(err_text(conf("k = -2147483649").get_int("k")), want);
    assert_eq!(err_text(conf("k = 18446744073709551615").get_int("k")), want);
}

#[test]
fn get_int_on_list_is_type_error() {
    assert_eq!(err_text(conf("k = [1]").get_int("k")), "internal error: /etc/x.conf: expected a signed integer for 'k' parameter");
}

#[test]
fn get_llong_reads_both_signs() {
    assert_eq!(conf("k = -9223372036854775808").get_llong("k"), Ok(Some(i64::MIN)));
    assert_eq!(conf("k = 9223372036854775807").get_llong("k"), Ok(Some(i64::MAX)));
}

#[test]
fn get_llong_over_max_is_range_error() {
    assert_eq!(
        err_text(conf("k = 9223372036854775808").get_llong("k")),
        "internal error: /etc/x.conf: value for 'k' parameter must be in range -9223372036854775808:9223372036854775807"
    );
}

#[test]
fn get_llong_on_string_is_type_error() {
    assert_eq!(err_text(conf("k = '1'").get_llong("k")), "internal error: /etc/x.conf: expected a signed integer for 'k' parameter");
}

#[test]
fn get_ullong_reads_max() {
    assert_eq!(conf("k = 18446744073709551615").get_ullong("k"), Ok(Some(u64::MAX)));
}

#[test]
fn get_ullong_on_negative_is_type_error() {
    assert_eq!(err_text(conf("k = -5").get_ullong("k")), "internal error: /etc/x.conf: expected an unsigned integer for 'k' parameter");
}

#[test]
fn strerror_has_no_rust_suffix() {
    assert_eq!(strerror(libc::ENOENT), "No such file or directory");
}

#[test]
fn fuzz_target_survives_every_seed_shape() {
    for text in [&b"a = [1, 'x', [\"\"\"y\"\"\"]]\n"[..], b"=", b"a = [", b"\xff\xfe", b"a = 99999999999999999999999"] {
        fuzz_target(text);
    }
}
