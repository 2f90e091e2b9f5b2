//! Log filters and record categories (util/virlog.c: virLogFilterNew, virLogParseFilter(s),
//! virLogGetFilters, virLogSourceUpdate), plus the max-level computation. Pure.

use super::spec::{parse_numeric_priority, Priority};
use super::LogError;

/// One filter. `pattern` is stored the way libvirt stores it: the match string wrapped
/// in `*` on both sides, so that a glob match of the whole category is a substring match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub priority: Priority,
    pub pattern: String,
}

impl Filter {
    // C: virLogFilterNew
    pub fn new(matcher: &str, priority: Priority) -> Filter {
        Filter { priority, pattern: format!("*{}*", matcher) }
    }

    pub fn matches(&self, category: &str) -> bool {
        crate::util::glob_match(&self.pattern, category)
    }
}

/// Parses one `L:match` filter (a leading `+` on the match, libvirt's old stack-trace
/// flag, is accepted and dropped; fields after the second are ignored, as libvirt does).
// C: virLogParseFilter
pub fn parse_filter(src: &str) -> Result<Filter, LogError> {
    let mut tokens = src.split(':');
    let (prio, raw_match) = match (tokens.next(), tokens.next()) {
        (Some(p), Some(m)) => (p, m),
        _ => return Err(LogError::MalformedFilter { spec: src.to_string() }),
    };
    let priority =
        parse_numeric_priority(prio).ok_or_else(|| LogError::BadFilterPriority { priority: prio.to_string(), spec: src.to_string() })?;
    let matcher = raw_match.strip_prefix('+').unwrap_or(raw_match);
    if matcher.is_empty() {
        return Err(LogError::BadMatch { matcher: raw_match.to_string() });
    }
    Ok(Filter::new(matcher, priority))
}

/// Parses a space-separated list of filters, in order (empty words skipped).
// C: virLogParseFilters
pub fn parse_filters(src: &str) -> Result<Vec<Filter>, LogError> {
    src.split(' ').filter(|w| !w.is_empty()).map(parse_filter).collect()
}

/// libvirt's string for a list of filters: each `L:pattern` followed by one space.
// C: virLogGetFilters
pub fn format_filters(list: &[Filter]) -> String {
    list.iter().map(|f| format!("{}:{} ", f.priority.as_u32(), f.pattern)).collect()
}

/// Names of our own crates, whose prefix is dropped from a target to form a category.
pub const OWN_CRATES: &[&str] = &["virtlite", "virtproxyd", "virtxend"];

/// The category of a record: its `log` target with one of our crate names removed from
/// the front and `::` turned into `.` (`virtlite::rpc::client` → `rpc.client`). Targets
/// given explicitly (`target: "foo"`) come out unchanged.
pub fn category_of(target: &str) -> String {
    let rest = OWN_CRATES.iter().find_map(|c| target.strip_prefix(c).and_then(|r| r.strip_prefix("::"))).unwrap_or(target);
    rest.replace("::", ".")
}

/// The minimum priority a record of `category` needs: the first matching filter's, else
/// the default.
// C: virLogSourceUpdate
pub fn category_priority(filters: &[Filter], default: Priority, category: &str) -> Priority {
    filters.iter().find(|f| f.matches(category)).map_or(default, |f| f.priority)
}

/// The least severe priority any record could be printed at, given the default, the
/// filters and the outputs' own levels (no outputs means the stderr fallback, which takes
/// everything). `log::set_max_level` is kept at this so disabled records cost one load.
pub fn most_verbose(default: Priority, filters: &[Filter], outputs: &[Priority]) -> Priority {
    let gate = filters.iter().map(|f| f.priority).fold(default, Priority::min);
    let out = outputs.iter().copied().min().unwrap_or(Priority::Debug);
    gate.max(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_filter_plain_wraps_in_stars() {
        let f = parse_filter("1:rpc").unwrap();
        assert_eq!(f, Filter { priority: Priority::Debug, pattern: "*rpc*".into() });
    }

    #[test]
    fn parse_filter_plus_prefix_dropped() {
        assert_eq!(parse_filter("2:+util.json").unwrap().pattern, "*util.json*");
    }

    #[test]
    fn parse_filter_missing_match_malformed() {
        let e = parse_filter("3").unwrap_err();
        assert_eq!(e.to_string(), "Malformed format for filter '3'");
    }

    #[test]
    fn parse_filter_bad_priority_rejected() {
        let e = parse_filter("0:rpc").unwrap_err();
        assert_eq!(e.to_string(), "Invalid priority '0' for filter '0:rpc'");
    }

    #[test]
    fn parse_filter_empty_match_rejected() {
        assert_eq!(parse_filter("1:").unwrap_err().to_string(), "Invalid match string ''");
        assert_eq!(parse_filter("1:+").unwrap_err().to_string(), "Invalid match string '+'");
    }

    #[test]
    fn parse_filter_extra_fields_ignored() {
        assert_eq!(parse_filter("1:rpc:extra").unwrap().pattern, "*rpc*");
    }

    #[test]
    fn parse_filters_keeps_order() {
        let l = parse_filters("3:rpc  1:util ").unwrap();
        assert_eq!(format_filters(&l), "3:*rpc* 1:*util* ");
    }

    #[test]
    fn parse_filters_empty_string_gives_none() {
        assert!(parse_filters("").unwrap().is_empty());
        assert_eq!(format_filters(&[]), "");
    }

    #[test]
    fn glob_match_star_and_question() {
        assert!(crate::util::glob_match("*", ""));
        assert!(crate::util::glob_match("a*c", "abbbc"));
        assert!(crate::util::glob_match("a?c", "abc"));
        assert!(!crate::util::glob_match("a?c", "ac"));
        assert!(!crate::util::glob_match("abc", "abcd"));
        assert!(crate::util::glob_match("*b*d", "abcbd"));
        assert!(!crate::util::glob_match("*b*d", "abcbe"));
    }

    #[test]
    fn filter_matches_substring_of_category() {
        let f = Filter::new("rpc", Priority::Debug);
        assert!(f.matches("rpc.client"));
        assert!(f.matches("remote.rpcx"));
        assert!(!f.matches("remote.daemon"));
    }

    #[test]
    fn filter_glob_inside_match() {
        let f = Filter::new("util.j?on", Priority::Debug);
        assert!(f.matches("util.json"));
        assert!(!f.matches("util.jsson"));
        assert!(Filter::new("rpc.*ent", Priority::Debug).matches("rpc.client.x"));
    }

    #[test]
    fn category_priority_first_match_wins() {
        let filters = parse_filters("4:rpc.client 1:rpc").unwrap();
        assert_eq!(category_priority(&filters, Priority::Warn, "rpc.client"), Priority::Error);
        assert_eq!(category_priority(&filters, Priority::Warn, "rpc.server"), Priority::Debug);
    }

    #[test]
    fn category_priority_no_match_uses_default() {
        let filters = parse_filters("1:rpc").unwrap();
        assert_eq!(category_priority(&filters, Priority::Info, "util.conf"), Priority::Info);
    }

    #[test]
    fn category_of_strips_own_crate() {
        assert_eq!(category_of("virtlite::rpc::client"), "rpc.client");
        assert_eq!(category_of("virtproxyd::main"), "main");
    }

    #[test]
    fn category_of_explicit_target_unchanged() {
        assert_eq!(category_of("foo"), "foo");
        assert_eq!(category_of("virtlite"), "virtlite");
        assert_eq!(category_of("virtliteish::x"), "virtliteish.x");
    }

    #[test]
    fn category_of_foreign_crate_keeps_prefix() {
        assert_eq!(category_of("mio::poll"), "mio.poll");
    }

    #[test]
    fn most_verbose_output_level_caps() {
        let p = most_verbose(Priority::Debug, &[], &[Priority::Warn, Priority::Error]);
        assert_eq!(p, Priority::Warn);
    }

    #[test]
    fn most_verbose_filter_below_default_counts() {
        let filters = parse_filters("4:util 1:rpc").unwrap();
        assert_eq!(most_verbose(Priority::Warn, &filters, &[Priority::Debug]), Priority::Debug);
    }

    #[test]
    fn most_verbose_default_gates_verbose_output() {
        assert_eq!(most_verbose(Priority::Warn, &[], &[Priority::Debug]), Priority::Warn);
    }

    #[test]
    fn most_verbose_no_outputs_uses_gate() {
        assert_eq!(most_verbose(Priority::Info, &[], &[]), Priority::Info);
    }
}
