//! Unit tests of the small value parsers and formatters.
use super::*;

#[test]
fn uuid_parse_accepts_dashed_and_plain_forms() {
    let a = uuid_parse("8f5c8e2a-1b3d-4c6e-9a7b-2d4f6e8a0c1e");
    assert_eq!(a, uuid_parse("8f5c8e2a1b3d4c6e9a7b2d4f6e8a0c1e"));
    assert_eq!(a.map(|u| uuid_format(&u)).as_deref(), Some("8f5c8e2a-1b3d-4c6e-9a7b-2d4f6e8a0c1e"));
}

#[test]
fn uuid_parse_short_or_trailing_garbage_is_none() {
    assert_eq!(uuid_parse("8f5c8e2a-1b3d"), None);
    assert_eq!(uuid_parse("8f5c8e2a-1b3d-4c6e-9a7b-2d4f6e8a0c1e-x"), None);
}

#[test]
fn mac_parse_rejects_short_and_long() {
    assert_eq!(mac_parse("00:16:3e:01:02"), None);
    assert_eq!(mac_parse("00:16:3e:01:02:03:04"), None);
    assert_eq!(mac_parse("00:16:3e:1:2:3").map(|m| mac_format(&m)).as_deref(), Some("00:16:3e:01:02:03"));
}

#[test]
fn scale_integer_units_and_overflow() {
    assert_eq!(scale_integer(2, Some("GiB"), 1024, u64::MAX), Ok(2 << 30));
    assert_eq!(scale_integer(1, Some("KB"), 1024, u64::MAX), Ok(1000));
    assert_eq!(scale_integer(3, None, 1024, u64::MAX), Ok(3072));
    assert!(scale_integer(u64::MAX, Some("EiB"), 1024, u64::MAX).is_err());
}

#[test]
fn disk_name_parse_gives_index_and_partition() {
    assert_eq!(disk_name_parse("xvda"), Some((0, 0)));
    assert_eq!(disk_name_parse("hdc"), Some((2, 0)));
    assert_eq!(disk_name_parse("sdaa3"), Some((26, 3)));
    assert_eq!(disk_name_parse("nvme0n1"), None);
}

#[test]
fn bitmap_parse_ranges_and_negation() {
    match Bitmap::parse("0-3,^2,8", 16) {
        Ok(b) => assert_eq!(b.format(), "0-1,3,8"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn bitmap_parse_out_of_range_is_error() {
    assert!(Bitmap::parse("16", 16).is_err());
    assert!(Bitmap::parse("3-1", 16).is_err());
    assert!(Bitmap::parse("", 16).is_err());
}
