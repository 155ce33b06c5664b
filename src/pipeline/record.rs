//! Recording a round's GitHub answers as a replayable [`Snapshot`], with
//! every PAT replaced by a placeholder.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::MinerInput;
use crate::replay::Snapshot;
use crate::scoring::{FileChange, GithubUser};
use crate::token::Pat;

/// Collects what GitHub answered during a round. Shared by the miners of
/// the round; each records only what its own calls returned.
#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    snapshot: Snapshot,
    placeholders: HashMap<[u8; 32], String>,
    miners: BTreeMap<u16, Value>,
}

/// A placeholder that is not a valid token, for a PAT that was not one:
/// the replay refuses it the same way.
const INVALID_PLACEHOLDER: &str = "recorded invalid token";

impl Recorder {
    /// An empty recording.
    pub fn new() -> Recorder {
        Recorder::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Plain data: a panic elsewhere cannot leave it torn.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes the miner's entry with its placeholder; returns the placeholder.
    /// One PAT gets one placeholder, so shared accounts stay shared.
    pub fn miner(&self, miner: &MinerInput) -> Option<String> {
        let mut state = self.state();
        let placeholder = match &miner.pat {
            Pat::Missing => None,
            Pat::Invalid => Some(INVALID_PLACEHOLDER.to_string()),
            Pat::Valid(token) => Some(
                state
                    .placeholders
                    .entry(token.fingerprint())
                    .or_insert_with(|| format!("recorded-pat-{}", miner.uid))
                    .clone(),
            ),
        };
        let mut entry = json!({"uid": miner.uid, "hotkey": miner.hotkey});
        if let Some(p) = &placeholder {
            entry["github_access_token"] = json!(p);
        }
        state.miners.insert(miner.uid, entry);
        placeholder
    }

    /// Records a `/user` answer.
    pub fn user(&self, placeholder: &str, user: &GithubUser) {
        let value = serde_json::to_value(user).unwrap_or(Value::Null);
        self.state()
            .snapshot
            .users
            .insert(placeholder.to_string(), value);
    }

    /// Records the pull-request nodes of an account, in GitHub's order.
    pub fn pull_requests(&self, github_id: &str, nodes: Vec<Value>) {
        self.state()
            .snapshot
            .pull_requests
            .insert(github_id.to_string(), nodes);
    }

    /// Records the files of a pull request. The entries keep what scoring
    /// reads, plus the keys 2.0.7 requires (`status`, `additions`,
    /// `deletions`), whose values scoring never uses.
    pub fn files(&self, repository: &str, number: u64, files: &[FileChange]) {
        let entries = files
            .iter()
            .map(|f| {
                json!({"filename": f.filename, "changes": f.changes, "patch": f.patch,
                       "status": "modified", "additions": f.changes, "deletions": 0})
            })
            .collect();
        self.state()
            .snapshot
            .files
            .insert(format!("{repository}#{number}"), entries);
    }

    /// The snapshot and the miners file (as JSON) that replay the round.
    pub fn finish(&self) -> (Snapshot, Value) {
        let state = self.state();
        let miners = Value::Array(state.miners.values().cloned().collect());
        (state.snapshot.clone(), miners)
    }
}
