//! What lasts between rounds, written off the event loop: the merged
//! PRs' file lists ([`files`], `pr-files.json`) and the results database
//! ([`results_db`]: 2.0.7's schema in PostgreSQL, and our round history).

pub mod files;
pub mod results_db;
