//! One reading of a failed ureq exchange for both blocking clients,
//! GitHub's and the dendrite's. Each keeps its own error enum (one per
//! module), and in both a transport failure becomes one of the same four
//! variants; this writes their `From<ureq::Error>` once.

/// `impl From<ureq::Error> for $error`, for an enum with the variants
/// `Timeout`, `BodyTooLarge(u64)`, `InvalidRequest(String)` and
/// `Transport(String)`.
macro_rules! from_ureq_error {
    ($error:ty) => {
        impl From<ureq::Error> for $error {
            fn from(e: ureq::Error) -> Self {
                match e {
                    ureq::Error::Timeout(_) => Self::Timeout,
                    ureq::Error::BodyExceedsLimit(limit) => Self::BodyTooLarge(limit),
                    // Tokens are checked when made, so this is a URL or a
                    // header that cannot be sent; no retry helps. http's
                    // messages quote no value.
                    ureq::Error::Http(e) => Self::InvalidRequest(e.to_string()),
                    ureq::Error::BadUri(_) => Self::InvalidRequest("bad url".into()),
                    // ureq's messages name the host at most, never a header
                    // or a body.
                    e => Self::Transport(e.to_string()),
                }
            }
        }
    };
}

pub(crate) use from_ureq_error;
