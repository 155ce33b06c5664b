//! Small pieces of Python semantics that the reference validator relies on
//! and that Rust spells differently: `round(x, 2)`, `str.isspace`, `fnmatch`.

/// Python's `round(x, 2)`: half-to-even on the exact binary value.
///
/// Rust's float formatting rounds the exact value correctly, with ties to
/// even, as CPython's `round` does; `(x * 100.0).round() / 100.0` does not
/// (it rounds 2.675 up, as the product is not exact).
pub fn round2(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // The formatted text is always a valid float literal.
    format!("{x:.2}").parse().unwrap_or(x)
}

/// Python's `str.isspace` for one character (also what `\s` matches in `re`).
///
/// Unicode `White_Space` plus the four separators U+001C..U+001F, which
/// Python counts as space and Rust does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `fnmatch.fnmatchcase(name, pattern)`: `*`, `?`, `[seq]`,
/// `[!seq]`, whole string, case-sensitive.
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pat: Vec<char> = pattern.chars().collect();
    glob_match(&name, &pat)
}

fn glob_match(name: &[char], pat: &[char]) -> bool {
    // Iterative matcher with one backtrack point per `*`, linear in practice.
    let (mut n, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                '*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                '?' => {
                    n += 1;
                    p += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = match_class(name[n], &pat[p..]) {
                        if matched {
                            n += 1;
                            p += next;
                            continue;
                        }
                    } else if name[n] == '[' {
                        // An unclosed `[` is a literal, as in Python.
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
                c => {
                    if c == name[n] {
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class that opens `pat` (`pat[0] == '['`).
/// Returns whether it matched and the class's length, or `None` when the
/// class is not closed (then `[` is a literal).
fn match_class(c: char, pat: &[char]) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some('!'));
    if negate {
        i += 1;
    }
    // A `]` right after `[` or `[!` is part of the set.
    let start = i;
    let mut end = None;
    let mut j = start;
    while j < pat.len() {
        if pat[j] == ']' && j > start {
            end = Some(j);
            break;
        }
        j += 1;
    }
    let end = end?;
    let set = &pat[start..end];
    let mut matched = false;
    let mut k = 0;
    while k < set.len() {
        if k + 2 < set.len() && set[k + 1] == '-' {
            let (lo, hi) = (set[k], set[k + 2]);
            if lo <= c && c <= hi {
                matched = true;
            }
            k += 3;
        } else {
            if set[k] == c {
                matched = true;
            }
            k += 1;
        }
    }
    Some((matched != negate, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round2_is_half_to_even_on_the_binary_value() {
        for (x, want) in [
            (0.125, 0.12),
            (2.675, 2.67),
            (0.375, 0.38),
            (1.005, 1.0),
            (0.135, 0.14),
            (-0.125, -0.12),
        ] {
            assert_eq!(round2(x), want, "round2({x})");
        }
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(strip("\u{1c} x \u{a0}\t"), "x");
        assert_eq!(strip("\u{200b}x"), "\u{200b}x");
    }

    fn check(name: &str, pattern: &str, expected: bool) {
        assert_eq!(
            fnmatch(name, pattern),
            expected,
            "fnmatch({name:?}, {pattern:?})"
        );
    }

    #[test]
    fn fnmatch_follows_python() {
        check("release/1.2", "release/*", true);
        check("release/1.2", "release/?.?", true);
        check("release", "release/*", false);
        check("Main", "main", false);
        check("dev-a", "dev-[abc]", true);
        check("dev-d", "dev-[abc]", false);
        check("dev-d", "dev-[!abc]", true);
        check("dev-5", "dev-[0-9]", true);
        check("a]", "a[]]", true);
        check("[x", "[x", true);
        check("feature/x/y", "feature/*", true);
        check("abcabd", "*ab?", true);
        check("", "*", true);
        check("", "?", false);
    }
}
