//! URLs as the client handles them by hand: a redirect's target and
//! origin (the token goes only to the configured origin), the `Link`
//! header's next page, and the repository names that may stand in a path.

/// GitHub owner and repository names: letters, digits, `-`, `_`, `.`.
pub(super) fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `scheme://host:port`, lower-cased, with the default port made explicit.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?.to_ascii_lowercase();
    if authority.is_empty() {
        return None;
    }
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']'));
    if has_port {
        Some(format!("{scheme}://{authority}"))
    } else {
        let port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        Some(format!("{scheme}://{authority}:{port}"))
    }
}

/// Resolves a `Location` against the URL it came from.
pub(super) fn resolve(base: &str, location: &str) -> Option<String> {
    if location.contains("://") {
        return Some(location.to_string());
    }
    if location.starts_with('/') {
        let (scheme, rest) = base.split_once("://")?;
        let authority = rest.split('/').next()?;
        return Some(format!("{scheme}://{authority}{location}"));
    }
    None
}

/// The `rel="next"` target of a `Link` header.
pub(super) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_make_default_ports_explicit() {
        assert_eq!(
            origin_of("https://api.github.com").as_deref(),
            Some("https://api.github.com:443")
        );
        assert_eq!(
            origin_of("https://API.github.com:443/x").as_deref(),
            Some("https://api.github.com:443")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/a?b").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_ne!(
            origin_of("http://127.0.0.1:8080"),
            origin_of("http://127.0.0.1:8081")
        );
        assert_eq!(origin_of("nonsense"), None);
    }

    #[test]
    fn next_link_reads_rel_next() {
        let link = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
    }

    #[test]
    fn repository_names_must_be_plain_path_segments() {
        assert!(is_path_segment("gittensor"));
        assert!(is_path_segment("my.repo-name_2"));
        for bad in ["", "..", "a/b", "a?b", "a b", "a%2f"] {
            assert!(!is_path_segment(bad), "{bad}");
        }
    }
}
