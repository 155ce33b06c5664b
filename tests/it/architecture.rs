//! The invariants of ARCHITECTURE.md that a grep can check.

use std::path::Path;

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            // Only code: drop comment lines, which may name what is absent.
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            out.push((path.display().to_string(), code));
        }
    }
    out
}

#[test]
fn scoring_is_pure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scoring");
    let forbidden = [
        "ureq",
        "tokio",
        "std::fs",
        "std::env",
        "std::net",
        "std::thread",
        "now_utc",
        "SystemTime",
        "Instant",
        "crate::github",
        "crate::pipeline",
        "crate::chain",
        "crate::dendrite",
        "crate::health",
        "subxt",
        "std::io",
    ];
    for (path, code) in sources(&root) {
        for f in forbidden {
            assert!(!code.contains(f), "{path} uses {f}: scoring must stay pure");
        }
    }
}

#[test]
fn one_bridge() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let users: Vec<String> = sources(&root)
        .into_iter()
        .filter(|(_, code)| code.contains("spawn_blocking(") || code.contains("block_in_place"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0].ends_with("pipeline/bridge.rs"), "{users:?}");
}

#[test]
fn only_chain_talks_to_the_chain() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let users: Vec<String> = sources(&src)
        .into_iter()
        .filter(|(_, text)| {
            [
                "OnlineClient",
                "subxt::dynamic",
                "LegacyBackend",
                "RpcClient",
            ]
            .iter()
            .any(|needle| text.contains(needle))
        })
        .map(|(path, _)| path)
        .collect();
    // The subtensor stand-in (`testkit`) is the chain's side: it encodes
    // with subxt's addresses, and talks to no chain.
    assert!(
        users
            .iter()
            .all(|p| p.contains("src/chain/") || p.contains("src/testkit/subtensor")),
        "subxt clients outside src/chain: {users:?}"
    );
    assert!(!users.is_empty());
}

#[test]
fn the_loops_do_not_know_the_command_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/validator");
    for (path, code) in sources(&root) {
        for f in ["crate::cli", "clap"] {
            assert!(
                !code.contains(f),
                "{path} uses {f}: validator/ takes a config, cli/ builds it"
            );
        }
    }
}
