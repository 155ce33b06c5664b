//! What lasts between rounds, written off the event loop: the loop's
//! `state.json`, `weights.json` and `report.json` ([`json`]), the merged
//! PRs' file lists ([`files`], `pr-files.json`) and the results database
//! ([`results_db`]: 2.0.7's schema in PostgreSQL, and our round history).

pub mod files;
pub mod json;
pub mod results_db;
