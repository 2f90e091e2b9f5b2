//! How a log record is written out: the line for files and stderr, the text for syslog and
//! the journald datagram (util/virlog.c virLogFormatString, virLogOutputToFd,
//! virLogOutputToJournald; util/virtime.c virTimeStringThenRaw).

use std::time::{SystemTime, UNIX_EPOCH};

use super::spec::Priority;

/// Where a record comes from, as the outputs need it.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// The category filters are matched against (`rpc.client`).
    pub category: &'a str,
    /// Short place name written in the line (libvirt writes the C function there).
    pub place: Option<&'a str>,
    /// Source file, for journald's CODE_FILE.
    pub file: Option<&'a str>,
    pub line: u32,
    /// Full module path, for journald's CODE_FUNC.
    pub module: Option<&'a str>,
}

/// The text of our first two lines on each output.
// C: VIR_LOG_VERSION_STRING
pub fn version_string() -> String {
    let (ma, mi, mc) = crate::LIBVIRT_VERSION;
    format!("libvirt version: {}.{}.{}, package: virtlite {}", ma, mi, mc, env!("CARGO_PKG_VERSION"))
}

// C: virLogHostnameString
pub fn hostname_string(hostname: &str) -> String {
    format!("hostname: {}", hostname)
}

/// `TID: LEVEL : PLACE:LINE : MESSAGE\n`, or `TID: LEVEL : MESSAGE\n` with no place: the
/// line without its timestamp, which is also what syslog receives.
// C: virLogFormatString
pub fn format_message(tid: u64, priority: Priority, place: Option<(&str, u32)>, msg: &str) -> String {
    match place {
        Some((p, line)) => format!("{}: {} : {}:{} : {}\n", tid, priority.as_str(), p, line, msg),
        None => format!("{}: {} : {}\n", tid, priority.as_str(), msg),
    }
}

/// `TIMESTAMP: MESSAGE-LINE`, written to files and stderr.
// C: virLogOutputToFd
pub fn format_fd_line(timestamp: &str, message: &str) -> String {
    format!("{}: {}", timestamp, message)
}

/// `YYYY-MM-DD HH:MM:SS.mmm+0000` in UTC; empty before 1970 (libvirt leaves it empty when
/// the clock cannot be formatted).
// C: virTimeStringThenRaw
pub fn format_timestamp(when: SystemTime) -> String {
    let ms = match when.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis(),
        Err(_) => return String::new(),
    };
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{:4}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+0000", y, m, d, rem / 3600, (rem / 60) % 60, rem % 60, ms % 1000)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Journald's SYSLOG_FACILITY for daemons (LOG_DAEMON without syslog's shift).
pub const JOURNAL_FACILITY_DAEMON: u32 = 3;

/// Appends one field of journald's native protocol: `NAME=value\n`, or, when the value
/// holds a newline, `NAME\n` + 64-bit little-endian length + value + `\n`.
// C: journalAddString
pub fn journal_field(buf: &mut Vec<u8>, name: &str, value: &[u8]) {
    buf.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') {
        buf.push(b'\n');
        buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        buf.push(b'=');
    }
    buf.extend_from_slice(value);
    buf.push(b'\n');
}

/// The whole datagram for one record.
// C: virLogOutputToJournald (the iovec part)
pub fn journal_datagram(priority: Priority, origin: &Origin<'_>, ident: &str, msg: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(msg.len() + 256);
    journal_field(&mut buf, "MESSAGE", msg.as_bytes());
    journal_field(&mut buf, "PRIORITY", priority.syslog().to_string().as_bytes());
    journal_field(&mut buf, "SYSLOG_FACILITY", JOURNAL_FACILITY_DAEMON.to_string().as_bytes());
    if !ident.is_empty() {
        journal_field(&mut buf, "SYSLOG_IDENTIFIER", ident.as_bytes());
    }
    journal_field(&mut buf, "LIBVIRT_SOURCE", origin.category.as_bytes());
    if let Some(file) = origin.file {
        journal_field(&mut buf, "CODE_FILE", file.as_bytes());
    }
    journal_field(&mut buf, "CODE_LINE", origin.line.to_string().as_bytes());
    if let Some(module) = origin.module {
        journal_field(&mut buf, "CODE_FUNC", module.as_bytes());
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn format_timestamp_epoch() {
        assert_eq!(format_timestamp(at(0)), "1970-01-01 00:00:00.000+0000");
    }

    #[test]
    fn format_timestamp_leap_day_with_millis() {
        // 2024-02-29 13:45:07.089 UTC
        assert_eq!(format_timestamp(at(1_709_214_307_089)), "2024-02-29 13:45:07.089+0000");
    }

    #[test]
    fn format_timestamp_end_of_year() {
        // 1999-12-31 23:59:59.999 UTC
        assert_eq!(format_timestamp(at(946_684_799_999)), "1999-12-31 23:59:59.999+0000");
    }

    #[test]
    fn format_timestamp_before_epoch_empty() {
        assert_eq!(format_timestamp(UNIX_EPOCH - Duration::from_secs(1)), "");
    }

    #[test]
    fn format_message_with_place_golden() {
        let s = format_message(4321, Priority::Debug, Some(("rpc.client", 57)), "hello");
        //                tid   level       place      line   message
        assert_eq!(s, "4321: debug : rpc.client:57 : hello\n");
    }

    #[test]
    fn format_message_without_place_golden() {
        let s = format_message(7, Priority::Info, None, "hostname: h1");
        assert_eq!(s, "7: info : hostname: h1\n");
    }

    #[test]
    fn format_fd_line_golden() {
        let m = format_message(99, Priority::Warn, Some(("util.conf", 3)), "x");
        let line = format_fd_line(&format_timestamp(at(1_000_123)), &m);
        assert_eq!(line, "1970-01-01 00:16:40.123+0000: 99: warning : util.conf:3 : x\n");
    }

    #[test]
    fn version_string_shape() {
        let v = version_string();
        assert!(v.starts_with("libvirt version: 9.0.0, package: virtlite "), "{v}");
    }

    #[test]
    fn journal_field_plain() {
        let mut b = Vec::new();
        journal_field(&mut b, "MESSAGE", b"hi there");
        assert_eq!(b, b"MESSAGE=hi there\n");
    }

    #[test]
    fn journal_field_with_newline_length_prefixed() {
        let mut b = Vec::new();
        journal_field(&mut b, "MESSAGE", b"a\nb");
        let mut want = b"MESSAGE\n".to_vec();
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(b"a\nb\n");
        assert_eq!(b, want);
    }

    #[test]
    fn journal_datagram_fields_in_order() {
        let origin = Origin {
            category: "rpc.client",
            place: Some("rpc.client"),
            file: Some("src/rpc/client.rs"),
            line: 12,
            module: Some("virtlite::rpc::client"),
        };
        let d = journal_datagram(Priority::Error, &origin, "virtproxyd", "boom");
        let want = "MESSAGE=boom\nPRIORITY=3\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=virtproxyd\n\
                    LIBVIRT_SOURCE=rpc.client\nCODE_FILE=src/rpc/client.rs\nCODE_LINE=12\n\
                    CODE_FUNC=virtlite::rpc::client\n";
        assert_eq!(String::from_utf8(d).unwrap(), want);
    }
}
