//! Utilities shared by both daemons (libvirt's `src/util/`).
pub mod conf;
pub mod daemon;
pub mod log;
pub mod memtrim;
pub mod paths;
pub mod pidfile;
pub mod ratelimit;
pub mod sys;
pub mod systemd;

/// The text of an OS error without Rust's " (os error N)" suffix, as libvirt prints it.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if e.raw_os_error().is_some() => s[..i].to_string(),
        _ => s,
    }
}

/// Glob match of the whole of `text`: `*` any run of characters, `?` one character,
/// everything else literal (the rules of g_pattern_match_simple).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it is currently absorbing up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
