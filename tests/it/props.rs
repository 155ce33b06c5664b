//! Property tests (the fuzzing that runs in CI): outside data of any shape
//! never panics the patch walker, the GraphQL page folder, the `/files`
//! parser, the weight loaders or the miners file parser.

use std::path::Path;

use gittensor_validator::inputs::parse_miners;
use gittensor_validator::scoring::files::{is_typo, non_scoreable, parse_files};
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
    fn glob_matching_never_panics(name in ".{0,20}", pattern in "[a-z*?\\[\\]!-]{0,12}") {
        let _ = fnmatch(&name, &pattern);
        prop_assert!(fnmatch(&name, "*"));
    }

    #[test]
    fn graphql_pages_of_any_shape_never_panic(answer in json()) {
        let repos = MasterRepositories::parse(r#"{"a/b": {"weight": 1}}"#, "t").unwrap();
        let mut c = PrCollector::new(&repos, NOW);
        let _ = c.add_page(&answer);
        let wrapped = serde_json::json!({"data": {"node": {"pullRequests": {"nodes": [answer.clone()], "pageInfo": answer}}}});
        let _ = c.add_page(&wrapped);
    }

    #[test]
    fn files_answers_of_any_shape_never_panic(answer in json()) {
        let _ = parse_files(&answer);
        let _ = parse_files(&Value::Array(vec![answer]));
    }

    #[test]
    fn weight_loaders_never_panic(v in json(), text in ".{0,64}") {
        let _ = MasterRepositories::parse(&v.to_string(), "t");
        let _ = LanguageWeights::parse(&v.to_string(), "t");
        let _ = MasterRepositories::parse(&text, "t");
        let wrapped = serde_json::json!({"x/y": v});
        let _ = MasterRepositories::parse(&wrapped.to_string(), "t");
    }

    #[test]
    fn miners_parser_never_panics(v in json(), text in ".{0,64}") {
        let _ = parse_miners(&v.to_string(), Path::new("m.json"));
        let _ = parse_miners(&format!("[{v}]"), Path::new("m.json"));
        let _ = parse_miners(&text, Path::new("m.json"));
    }
}
