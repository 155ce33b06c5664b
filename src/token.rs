//! A GitHub personal access token that never prints itself.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Longest token accepted. GitHub's are under 100 characters; a larger
/// one is hostile input and is not sent anywhere.
pub const MAX_TOKEN_LEN: usize = 1024;

/// A miner's PAT. `Debug` and `Display` print `<redacted>`; the only way
/// to the text is crate-private, for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Arc<str>);

impl Token {
    /// Wraps a token. `None` when it cannot be a header value (control
    /// characters, spaces, non-ASCII, over MAX_TOKEN_LEN): such a token is
    /// never sent, and GitHub would refuse it anyway.
    pub fn new(text: &str) -> Option<Token> {
        let ok = !text.is_empty()
            && text.len() <= MAX_TOKEN_LEN
            && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Token(Arc::from(text)))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token: a cache key that does not keep the secret.
    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

/// What a miner sent as its PAT, classified the moment it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    /// Nothing, null or "".
    Missing,
    /// Something that cannot be a token (never sent to GitHub, which would
    /// refuse it: the miner fails as if GitHub had).
    Invalid,
    /// A token.
    Valid(Token),
}

impl Pat {
    /// Classifies what a miner sent.
    pub fn from_text(text: Option<&str>) -> Pat {
        match text {
            None | Some("") => Pat::Missing,
            Some(t) => Token::new(t).map_or(Pat::Invalid, Pat::Valid),
        }
    }

    /// The token, if it is one.
    pub fn token(&self) -> Option<&Token> {
        match self {
            Pat::Valid(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints_itself() {
        let t = Token::new("ghp_secret123").unwrap();
        assert_eq!(
            format!("{t:?} {t} {:?}", Some(&t)),
            "Token(<redacted>) <redacted> Some(Token(<redacted>))"
        );
    }

    #[test]
    fn tokens_that_cannot_be_a_header_are_refused() {
        for bad in [
            "",
            "a b",
            "a\nb",
            "a\r\nX-Evil: 1",
            "tök",
            "\u{0}",
            &"x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(Token::new(bad).is_none(), "{bad:?}");
        }
        assert!(Token::new("github_pat_11AAA_bbb").is_some());
    }
}
