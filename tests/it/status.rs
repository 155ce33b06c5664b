//! `status` as a user runs it, without a chain: bad usage exits 2, a node
//! that is not there exits 1 naming the chain. (Against a real runtime:
//! `scripts/consensus-testbed.sh`.)

use std::process::Command;

use crate::cli::BIN;
use crate::util::ClosedPort;

/// `status ARGS` exits with `code` and its stderr says `says`.
fn check(args: &[&str], code: i32, says: &str) {
    let out = Command::new(BIN).arg("status").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a status");
}

#[test]
fn status_refuses_a_hotkey_that_is_not_ss58() {
    let closed = ClosedPort::new();
    let endpoint = closed.url("ws");
    check(
        &[
            "--ss58",
            "not-an-address",
            "--subtensor.chain_endpoint",
            &endpoint,
        ],
        2,
        "--ss58 \"not-an-address\" is not an SS58 address",
    );
}

#[test]
fn status_refuses_an_unknown_network() {
    check(
        &[
            "--ss58",
            "5FntUfpakvz4NF4UWjD89pgvEiBRmPA1aaCHbxrsTD5tSrma",
            "--subtensor.network",
            "moon",
        ],
        2,
        "expected finney, test, local or a ws:// URL",
    );
}

#[test]
fn status_without_a_node_exits_1_naming_the_chain() {
    let closed = ClosedPort::new();
    let endpoint = closed.url("ws");
    check(
        &[
            "--ss58",
            "5FntUfpakvz4NF4UWjD89pgvEiBRmPA1aaCHbxrsTD5tSrma",
            "--subtensor.chain_endpoint",
            &endpoint,
        ],
        1,
        "error: chain:",
    );
}

#[test]
fn status_refuses_a_trust_threshold_outside_0_to_1() {
    check(
        &[
            "--ss58",
            "5FntUfpakvz4NF4UWjD89pgvEiBRmPA1aaCHbxrsTD5tSrma",
            "--trust-threshold",
            "1.5",
        ],
        2,
        "--trust-threshold 1.5 is not between 0 and 1",
    );
}
