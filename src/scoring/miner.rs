//! Validating a miner (SCORING.md §3).

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::{parse_time, MIN_GITHUB_ACCOUNT_AGE, RECYCLE_UID};

/// The fields of GitHub's `GET /user` answer that scoring reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct GithubUser {
    /// The numeric account id.
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: Option<u64>,
    /// The login, for logs only.
    #[serde(default)]
    pub login: Option<String>,
    /// Account creation time, RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
}

impl GithubUser {
    /// Whether the answer may be cached: it holds both `id` and `created_at`.
    pub fn is_complete(&self) -> bool {
        self.id.is_some() && self.created_at.is_some()
    }
}

/// `id` as GitHub sends it is a number; anything else is treated as absent
/// rather than failing the whole answer.
fn lenient_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_u64())
}

/// Checks that need no GitHub call (§3 rules 1 to 3). `Err` carries the
/// `failed_reason`.
pub fn precheck(uid: u16, responded: bool, has_pat: bool) -> Result<(), String> {
    if uid == RECYCLE_UID {
        return Err("SPECIAL CASE UID 0 - RECYCLE UID".to_string());
    }
    if !responded {
        return Err(format!("No response provided by miner {uid}"));
    }
    if !has_pat {
        return Err(format!("No Github PAT provided by miner {uid}"));
    }
    Ok(())
}

/// Checks on the `/user` answer (§3 rules 4 to 6). `Ok` carries the
/// `github_id`, `Err` the `failed_reason`.
pub fn check_user(
    uid: u16,
    user: Option<&GithubUser>,
    now: OffsetDateTime,
) -> Result<String, String> {
    let Some(id) = user.and_then(|u| u.id) else {
        return Err(format!("No Github id found for miner {uid}'s PAT"));
    };
    let created = user
        .and_then(|u| u.created_at.as_deref())
        .and_then(parse_time);
    let age = created.map(|c| account_age_days(c, now)).unwrap_or(0);
    if age == 0 {
        return Err(format!(
            "Could not determine Github account age for miner {uid}"
        ));
    }
    if age < MIN_GITHUB_ACCOUNT_AGE {
        return Err(format!(
            "Miner {uid}'s Github account too young ({age} < {MIN_GITHUB_ACCOUNT_AGE} days)"
        ));
    }
    Ok(id.to_string())
}

/// Whole days between `created` and `now`, floored (Python's `timedelta.days`).
pub fn account_age_days(created: OffsetDateTime, now: OffsetDateTime) -> i64 {
    floor_days(now - created)
}

/// `timedelta.days`: floor of the duration in days, also for negative spans.
pub(crate) fn floor_days(d: Duration) -> i64 {
    d.whole_seconds().div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-12-20 12:00:00 UTC);

    fn user(id: Option<u64>, created_at: Option<&str>) -> GithubUser {
        GithubUser {
            id,
            login: Some("m".into()),
            created_at: created_at.map(str::to_string),
        }
    }

    fn check(user: Option<GithubUser>, expected: Result<&str, &str>) {
        let got = check_user(7, user.as_ref(), NOW);
        let want = expected.map(str::to_string).map_err(str::to_string);
        assert_eq!(got, want);
    }

    #[test]
    fn uid_0_is_the_recycle_uid() {
        assert_eq!(
            precheck(0, true, true),
            Err("SPECIAL CASE UID 0 - RECYCLE UID".into())
        );
    }

    #[test]
    fn no_response_fails_before_no_pat() {
        assert_eq!(
            precheck(3, false, false),
            Err("No response provided by miner 3".into())
        );
        assert_eq!(
            precheck(3, true, false),
            Err("No Github PAT provided by miner 3".into())
        );
        assert_eq!(precheck(3, true, true), Ok(()));
    }

    #[test]
    fn no_user_or_no_id_fails() {
        check(None, Err("No Github id found for miner 7's PAT"));
        check(
            Some(user(None, Some("2020-01-01T00:00:00Z"))),
            Err("No Github id found for miner 7's PAT"),
        );
    }

    #[test]
    fn age_zero_or_unknown_cannot_be_determined() {
        let msg = "Could not determine Github account age for miner 7";
        check(Some(user(Some(1), None)), Err(msg));
        check(Some(user(Some(1), Some("yesterday"))), Err(msg));
        // Created 23 hours ago: zero whole days.
        check(Some(user(Some(1), Some("2025-12-19T13:00:00Z"))), Err(msg));
    }

    #[test]
    fn account_younger_than_180_days_fails() {
        // 2025-06-23T12:00:01Z is 179 days, 23:59:59 before NOW.
        check(
            Some(user(Some(1), Some("2025-06-23T12:00:01Z"))),
            Err("Miner 7's Github account too young (179 < 180 days)"),
        );
        check(Some(user(Some(42), Some("2025-06-23T12:00:00Z"))), Ok("42"));
    }

    #[test]
    fn only_complete_user_answers_are_cacheable() {
        assert!(user(Some(1), Some("x")).is_complete());
        assert!(!user(None, Some("x")).is_complete());
        assert!(!user(Some(1), None).is_complete());
    }

    #[test]
    fn floor_days_matches_python_timedelta_days() {
        assert_eq!(floor_days(Duration::seconds(-1)), -1);
        assert_eq!(floor_days(Duration::seconds(86_399)), 0);
        assert_eq!(floor_days(Duration::seconds(86_400)), 1);
    }
}
