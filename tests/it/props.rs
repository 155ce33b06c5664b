//! Property tests (the fuzzing that runs in CI): outside data of any shape
//! never panics the patch walker, the GraphQL page folder, the `/files`
//! parser, the weight loaders or the miners file parser, and each keeps the
//! promise it is for: counts within bounds, a table holding exactly the
//! entries it was given, a miners file read back as written.

use std::path::Path;

use gittensor_validator::inputs::parse_miners;
use gittensor_validator::scoring::files::{is_typo, non_scoreable, parse_files};
use gittensor_validator::scoring::pulls::PageStep;
use gittensor_validator::scoring::py::fnmatch;
use gittensor_validator::scoring::{LanguageWeights, MasterRepositories, PrCollector};
use proptest::prelude::*;
use serde_json::Value;

use crate::util::NOW;

/// Any JSON value, a few levels deep, with GitHub-ish keys.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("2025-12-20T11:00:00Z".into())),
        Just(Value::String("MERGED".into())),
    ];
    let keys = prop_oneof![
        Just("data"),
        Just("node"),
        Just("pullRequests"),
        Just("nodes"),
        Just("pageInfo"),
        Just("hasNextPage"),
        Just("endCursor"),
        Just("errors"),
        Just("repository"),
        Just("owner"),
        Just("login"),
        Just("name"),
        Just("mergedAt"),
        Just("createdAt"),
        Just("closedAt"),
        Just("state"),
        Just("number"),
        Just("author"),
        Just("mergedBy"),
        Just("reviews"),
        Just("baseRefName"),
        Just("headRefName"),
        Just("headRepository"),
        Just("closingIssuesReferences"),
        Just("bodyText"),
        Just("lastEditedAt"),
        Just("filename"),
        Just("changes"),
        Just("patch"),
        Just("status"),
        Just("additions"),
        Just("deletions"),
        Just("weight"),
        Just("inactiveAt"),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// Diff-like text: mostly `+`/`-`/` ` lines of code-ish characters.
fn patch() -> impl Strategy<Value = String> {
    prop::collection::vec("[-+ @\\\\]{0,2}[ a-zA-Z0-9_'#/*;%\"(){}<!.-]{0,30}", 0..40)
        .prop_map(|l| l.join("\n"))
}

proptest! {
    // 256 cases in CI; `scripts/fuzz.sh` raises it through PROPTEST_CASES.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("regressions"))),
        .. ProptestConfig::default()
    })]

    #[test]
    fn patch_walker_never_panics_and_stays_in_bounds(p in patch(), max in -5i64..60, any_text in ".{0,200}") {
        let lines = p.split('\n').count() as i64;
        let n = non_scoreable(Some(&p), max, "rs");
        prop_assert!(n >= 0 && n <= lines);
        let _ = non_scoreable(Some(&any_text), max, "py");
    }

    #[test]
    fn typo_check_is_symmetric_in_token_count(a in ".{0,40}", b in ".{0,40}") {
        prop_assert_eq!(is_typo(&a, &b), is_typo(&b, &a));
        prop_assert!(is_typo(&a, &a));
    }

    #[test]
    fn glob_matching_never_panics_and_a_plain_name_matches_itself(name in ".{0,20}", pattern in "[a-z*?\\[\\]!-]{0,12}") {
        let _ = fnmatch(&name, &pattern);
        prop_assert!(fnmatch(&name, "*"));
        if !name.contains(['*', '?', '[']) {
            prop_assert!(fnmatch(&name, &name), "{name:?}");
            let (head, _) = name.split_at(name.char_indices().nth(name.chars().count() / 2).map_or(name.len(), |(i, _)| i));
            prop_assert!(fnmatch(&name, &format!("{head}*")), "{name:?}");
        }
    }

    #[test]
    fn graphql_pages_of_any_shape_never_panic_nor_count_more_than_they_hold(answer in json()) {
        let repos = MasterRepositories::parse(r#"{"a/b": {"weight": 1}}"#, "t").unwrap();
        let mut c = PrCollector::new(&repos, NOW);
        let _ = c.add_page(&answer);
        let wrapped = serde_json::json!({"data": {"node": {"pullRequests": {"nodes": [answer.clone()], "pageInfo": answer}}}});
        let mut one = PrCollector::new(&repos, NOW);
        // Another page only when the answer says so, from its cursor.
        if let PageStep::Next(cursor) = one.add_page(&wrapped) {
            prop_assert_eq!(&answer["hasNextPage"], &Value::Bool(true));
            prop_assert_eq!(answer["endCursor"].as_str(), Some(cursor.as_str()));
        }
        // One node is at most one pull request, of one kind.
        let got = one.finish();
        prop_assert!(got.pull_requests.len() <= 1);
        prop_assert!(got.open_pr_count + got.closed_pr_count <= 1);
        prop_assert!(got.merged_pr_count as usize <= got.pull_requests.len());
    }

    #[test]
    fn files_answers_of_any_shape_never_panic_and_keep_every_entry_or_none(answer in json()) {
        match (parse_files(&answer), &answer) {
            (Ok(files), Value::Array(items)) => prop_assert_eq!(files.len(), items.len()),
            (Ok(_), _) => prop_assert!(false, "a non-list was read as files"),
            (Err(_), _) => {}
        }
        // One entry without a required key fails the whole list.
        let mut items = vec![serde_json::json!({"filename": "a.rs", "status": "modified", "additions": 1, "deletions": 0, "changes": 1})];
        items.push(answer.clone());
        let required = ["filename", "changes", "additions", "deletions", "status"];
        if !required.iter().all(|k| answer.get(*k).is_some()) {
            prop_assert!(parse_files(&Value::Array(items)).is_err());
        }
    }

    #[test]
    fn weight_loaders_never_panic_and_hold_exactly_the_numeric_entries(v in json(), text in ".{0,64}") {
        let _ = MasterRepositories::parse(&v.to_string(), "t");
        let _ = MasterRepositories::parse(&text, "t");
        let wrapped = serde_json::json!({"x/y": v});
        let _ = MasterRepositories::parse(&wrapped.to_string(), "t");
        // Languages: a table is read iff it is a non-empty object of
        // numbers, and then holds each entry with its weight.
        // (Compared with the same text read back: serde_json reads a long
        // float to within an ulp, so `v` itself may differ in the last digit.)
        let written = v.to_string();
        let v: Value = serde_json::from_str(&written).unwrap();
        let languages = LanguageWeights::parse(&written, "t");
        match v.as_object() {
            Some(map) if !map.is_empty() && map.values().all(Value::is_number) => {
                let table = languages.expect("an object of numbers");
                prop_assert_eq!(table.len(), map.len());
                for (ext, w) in map {
                    prop_assert_eq!(table.weight(ext), w.as_f64().unwrap());
                }
            }
            _ => prop_assert!(languages.is_err()),
        }
        // Repositories: what is read is every entry, under its lower-cased name.
        if let (Ok(table), Some(map)) = (MasterRepositories::parse(&v.to_string(), "t"), v.as_object()) {
            let names: std::collections::HashSet<String> = map.keys().map(|k| k.to_lowercase()).collect();
            prop_assert_eq!(table.len(), names.len());
            for name in &names {
                prop_assert!(table.get(name).is_some(), "{name}");
            }
        }
    }

    #[test]
    fn miners_parser_never_panics(v in json(), text in ".{0,64}") {
        let _ = parse_miners(&v.to_string(), Path::new("m.json"));
        if let Ok(miners) = parse_miners(&format!("[{v}]"), Path::new("m.json")) {
            prop_assert_eq!(miners.len(), 1);
        }
        let _ = parse_miners(&text, Path::new("m.json"));
    }

    #[test]
    fn a_miners_file_reads_back_as_written(
        entries in prop::collection::btree_map(any::<u16>(), (prop::option::of("[a-zA-Z0-9]{1,48}"), prop::option::of("ghp_[a-zA-Z0-9]{36}")), 0..20)
    ) {
        let list: Vec<Value> = entries
            .iter()
            .map(|(uid, (hotkey, pat))| serde_json::json!({"uid": uid, "hotkey": hotkey, "github_access_token": pat}))
            .collect();
        let miners = parse_miners(&Value::Array(list).to_string(), Path::new("m.json")).unwrap();
        prop_assert_eq!(miners.len(), entries.len());
        for (m, (uid, (hotkey, pat))) in miners.iter().zip(&entries) {
            prop_assert_eq!(m.uid, *uid);
            prop_assert_eq!(&m.hotkey, hotkey);
            prop_assert_eq!(&m.pat, &gittensor_validator::token::Pat::from_text(pat.as_deref()));
        }
    }
}
