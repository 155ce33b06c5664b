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
    assert!(users[0].ends_with("src/bridge.rs"), "{users:?}");
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

#[test]
fn a_client_knows_its_peer_and_nothing_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for client in ["github", "dendrite", "chain"] {
        for (path, code) in sources(&src.join(client)) {
            for f in [
                "crate::store",
                "crate::pipeline",
                "crate::validator",
                "crate::bridge",
                "crate::testkit",
            ] {
                assert!(
                    !code.contains(f),
                    "{path} uses {f}: a client talks to its peer; what is cached or kept is decided above it"
                );
            }
        }
    }
}

#[test]
fn the_test_doubles_are_only_in_testkit() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut users = Vec::new();
    for (path, code) in sources(&src) {
        let own = path.contains("src/testkit/") || path.contains("src/cli/");
        let declared = path.ends_with("src/lib.rs");
        if !own && !declared && (code.contains("testkit") || code.contains("FakeHub")) {
            users.push(path);
        }
    }
    // The binary's offline commands (`demo`, `--replay`) serve a snapshot
    // through `testkit::fakehub`; no library module does.
    assert!(
        users.is_empty(),
        "test doubles used outside testkit/ and cli/: {users:?}"
    );
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(
        !lib.contains("mod cli"),
        "cli/ is the binary's, not the library's"
    );
}

#[test]
fn no_source_file_is_over_550_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for (path, _) in sources(&src) {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        if lines > 550 {
            long.push(format!("{path}: {lines}"));
        }
    }
    assert!(long.is_empty(), "split along a seam: {long:?}");
}

#[test]
fn the_client_knows_no_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (path, code) in sources(&src.join("github")) {
        for f in ["crate::store", "FileStore", "crate::pipeline"] {
            assert!(
                !code.contains(f),
                "{path} uses {f}: the client is below the store and the round"
            );
        }
    }
    for (path, code) in sources(&src.join("store")) {
        assert!(
            !code.contains("crate::github"),
            "{path} uses crate::github: the store knows no client (the round joins them)"
        );
    }
}
