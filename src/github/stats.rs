//! The client's request counts.

use std::sync::atomic::{AtomicU64, Ordering};

/// The endpoints, for request counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `GET /user`.
    User,
    /// `POST /graphql`.
    Graphql,
    /// `GET /repos/{owner}/{name}/pulls/{n}/files`.
    Files,
}

/// Requests sent so far, retries included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// `GET /user` requests.
    pub user: u64,
    /// GraphQL requests.
    pub graphql: u64,
    /// `/files` requests.
    pub files: u64,
    /// Of all of them, retries.
    pub retries: u64,
    /// Of the retries, the ones after a wait for a rate limit.
    pub rate_limit_waits: u64,
    /// `/user` requests answered 304 Not Modified (free of rate limit).
    pub not_modified: u64,
}

impl RequestStats {
    /// Every request.
    pub fn total(&self) -> u64 {
        self.user + self.graphql + self.files
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &RequestStats) -> RequestStats {
        RequestStats {
            user: self.user - earlier.user,
            graphql: self.graphql - earlier.graphql,
            files: self.files - earlier.files,
            retries: self.retries - earlier.retries,
            rate_limit_waits: self.rate_limit_waits - earlier.rate_limit_waits,
            not_modified: self.not_modified - earlier.not_modified,
        }
    }
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) user: AtomicU64,
    pub(super) graphql: AtomicU64,
    pub(super) files: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) rate_limit_waits: AtomicU64,
    pub(super) not_modified: AtomicU64,
}

impl Counters {
    /// The counts so far.
    pub(super) fn load(&self) -> RequestStats {
        RequestStats {
            user: self.user.load(Ordering::Relaxed),
            graphql: self.graphql.load(Ordering::Relaxed),
            files: self.files.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
        }
    }

    /// The counter of `endpoint`'s requests.
    pub(super) fn of(&self, endpoint: Endpoint) -> &AtomicU64 {
        match endpoint {
            Endpoint::User => &self.user,
            Endpoint::Graphql => &self.graphql,
            Endpoint::Files => &self.files,
        }
    }
}
