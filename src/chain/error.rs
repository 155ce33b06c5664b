//! Errors of the chain client.

use std::fmt;
use std::time::Duration;

/// Why a chain call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// No connection, and the back-off says not to try again yet.
    Disconnected(Duration),
    /// Connecting to the node failed.
    Connect(String),
    /// The call did not finish in time.
    Timeout(&'static str),
    /// The node answered with an error, or the connection failed.
    Rpc(String),
    /// Something the chain should hold was not there.
    Missing(&'static str),
    /// A storage item is not in the runtime's metadata, or its value does
    /// not decode as expected: the runtime changed, the connection is fine.
    Storage {
        /// The item, e.g. `SubtensorModule.ValidatorPermit`.
        item: String,
        /// What went wrong.
        message: String,
    },
    /// The node's pool refused the extrinsic before any block (bad
    /// signature, stale nonce, ...).
    Rejected(String),
    /// The extrinsic is in a block, and failed there with this error.
    Refused {
        /// The error's name, e.g. `SettingWeightsTooFast`.
        name: String,
        /// The block it is in.
        block: u64,
    },
}

impl ChainError {
    /// Whether no call was made: the client is waiting out its back-off
    /// after a failed connection (which it logged with its next attempt).
    pub fn is_disconnected(&self) -> bool {
        matches!(self, ChainError::Disconnected(_))
    }

    /// Whether the connection may be broken, so it should be made again.
    /// A refusal or a missing item says nothing of the connection.
    pub fn is_connection_problem(&self) -> bool {
        matches!(
            self,
            ChainError::Connect(_) | ChainError::Timeout(_) | ChainError::Rpc(_)
        )
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Disconnected(wait) => {
                write!(f, "not connected (next attempt in {}s)", wait.as_secs())
            }
            ChainError::Connect(m) => write!(f, "cannot connect: {m}"),
            ChainError::Timeout(what) => write!(f, "timed out {what}"),
            ChainError::Rpc(m) => write!(f, "rpc error: {m}"),
            ChainError::Missing(what) => write!(f, "missing on chain: {what}"),
            ChainError::Storage { item, message } => {
                write!(f, "storage item {item} cannot be read: {message}")
            }
            ChainError::Rejected(m) => write!(f, "rejected by the node: {m}"),
            ChainError::Refused { name, block } => {
                write!(f, "refused by the chain in block {block}: {name}")
            }
        }
    }
}

impl std::error::Error for ChainError {}

/// Any failure of the node or of the connection to it: `Rpc`, so the
/// connection is made again.
pub(super) fn rpc_error(e: impl fmt::Display) -> ChainError {
    ChainError::Rpc(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_failure_of_the_node_is_rpc_and_makes_the_connection_again() {
        let e = rpc_error("connection closed");
        assert_eq!(e, ChainError::Rpc("connection closed".into()));
        assert!(e.is_connection_problem());
    }
}
