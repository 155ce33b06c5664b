//! The blocking GitHub client, on ureq.
//!
//! # In scope
//! `GET /user`, the GraphQL pull-request search with paging, and
//! `GET /pulls/{n}/files`, with a global timeout and a body limit on every
//! request, retries with back-off where a retry can help, an interruptible
//! wait, and request counts.
//!
//! # Out of scope
//! No async: every call blocks its thread, on purpose. The async pipeline
//! calls it through its one `spawn_blocking` bridge. No scoring decision is
//! made here: pages go to [`crate::scoring::PrCollector`] as they come.

mod client;
mod config;
mod error;
mod policy;
mod stats;
mod urls;

pub use client::{Client, FileList, API_VERSION};
pub use config::{ClientConfig, ClientConfigBuilder};
pub use error::Error;
pub use stats::RequestStats;

/// The pull-request query of SCORING.md §4, on a user's global node id.
pub const PULL_REQUESTS_QUERY: &str = r#"query($userId: ID!, $limit: Int!, $cursor: String) {
  node(id: $userId) {
    ... on User {
      pullRequests(first: $limit, states: [MERGED, OPEN, CLOSED], orderBy: {field: CREATED_AT, direction: DESC}, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          title number additions deletions mergedAt createdAt closedAt lastEditedAt bodyText state
          commits(first: 100) { totalCount }
          repository { name owner { login } defaultBranchRef { name } }
          headRepository { name owner { login } }
          baseRefName headRefName
          author { login } authorAssociation
          mergedBy { login }
          closingIssuesReferences(first: 50) { nodes { number title state createdAt closedAt author { login } } }
          reviews(first: 50, states: APPROVED) { nodes { author { login } } }
        }
      }
    }
  }
}"#;
