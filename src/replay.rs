//! The replay file format: a round's GitHub answers, written by `--record`
//! ([`crate::pipeline::Recorder`]), read by `--replay` and the demo
//! ([`crate::inputs::load_snapshot`]) and served by [`crate::testkit::fakehub`].
//! Every PAT in it is a placeholder.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// GitHub answers to serve, keyed as the requests find them. This is also
/// the replay file format (see README). Tokens are placeholders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `/user` answers by token.
    #[serde(default)]
    pub users: BTreeMap<String, Value>,
    /// Pull-request nodes by GitHub user id, newest first, as GraphQL returns them.
    #[serde(default)]
    pub pull_requests: BTreeMap<String, Vec<Value>>,
    /// `/files` answers by `owner/name#number`.
    #[serde(default)]
    pub files: BTreeMap<String, Vec<Value>>,
}
