//! The blocking side: one connection, the schema made sure of, a round's
//! rows written as 2.0.7 writes them. Called only through the bridge.

use postgres::types::ToSql;
use postgres::{Client, NoTls};

use super::rows::{
    EvaluationRow, FileChangeRow, HistoryRow, IssueRow, MinerRows, PullRequestRow, RoundRows,
};
use super::schema::{MIGRATIONS, MIGRATION_LOCK, OUR_TABLES, REFERENCE_TABLES, SCHEMA_VERSION};
use super::{Config, Error};

/// Rows per statement, as 2.0.7's `execute_values(page_size=100)`.
const PAGE: usize = 100;

/// A parameter list.
type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

/// Connects and makes sure of the schema: 2.0.7's tables and ours created
/// when missing, the version recorded (or the migrations run).
pub(super) fn connect(config: &Config) -> Result<Client, Error> {
    let mut client = config.pg.connect(NoTls).map_err(Error::connect)?;
    let mut tx = client.transaction().map_err(Error::server)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(Error::server)?;
    tx.batch_execute(REFERENCE_TABLES).map_err(Error::server)?;
    tx.batch_execute(OUR_TABLES).map_err(Error::server)?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM gv_schema_version", &[])
        .map_err(Error::server)?
        .get(0);
    match found {
        Some(v) if v > SCHEMA_VERSION => {
            return Err(Error::SchemaTooNew {
                found: v,
                ours: SCHEMA_VERSION,
            })
        }
        Some(v) => {
            for step in MIGRATIONS.iter().skip(usize::try_from(v - 1).unwrap_or(0)) {
                tx.batch_execute(step).map_err(Error::server)?;
            }
        }
        None => {}
    }
    tx.execute(
        "INSERT INTO gv_schema_version (version) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&SCHEMA_VERSION],
    )
    .map_err(Error::server)?;
    tx.commit().map_err(Error::server)?;
    Ok(client)
}

/// What writing a round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Written {
    /// Rows sent (2.0.7's tables and ours).
    pub(super) rows: usize,
    /// Steps the server refused (a constraint, a value out of range): as
    /// 2.0.7 does, that step's rows are rolled back and the rest written.
    pub(super) refused: Vec<String>,
}

/// Writes a round. `Err` is a fault worth a retry (the connection, the
/// server); a refusal of the data itself is counted in `Written` instead.
pub(super) fn write_round(
    client: &mut Client,
    rows: &RoundRows<'_>,
    history_days: u32,
) -> Result<Written, Error> {
    let mut out = Written::default();
    for miner in &rows.miners {
        write_miner(client, miner, &mut out)?;
    }
    step(client, "gv_round_history", &mut out, |tx| {
        pages(tx, &rows.history)
    })?;
    if history_days > 0 {
        let cutoff = rows.now - time::Duration::days(i64::from(history_days));
        client
            .execute(
                "DELETE FROM gv_round_history WHERE round_now < $1",
                &[&cutoff],
            )
            .map_err(Error::server)?;
    }
    Ok(out)
}

/// 2.0.7's `store_evaluation`: five steps, each committed on its own.
fn write_miner(client: &mut Client, m: &MinerRows<'_>, out: &mut Written) -> Result<(), Error> {
    let uid = m.miner.uid;
    step(client, &format!("miners (uid {uid})"), out, |tx| {
        let r = &m.miner;
        tx.execute(MINER, &[&r.uid, &r.hotkey, &r.github_id])?;
        Ok(1)
    })?;
    step(client, &format!("pull_requests (uid {uid})"), out, |tx| {
        pages(tx, &m.pull_requests)
    })?;
    step(client, &format!("issues (uid {uid})"), out, |tx| {
        pages(tx, &m.issues)
    })?;
    step(client, &format!("file_changes (uid {uid})"), out, |tx| {
        pages(tx, &m.file_changes)
    })?;
    step(
        client,
        &format!("miner_evaluations (uid {uid})"),
        out,
        |tx| pages(tx, std::slice::from_ref(&m.evaluation)),
    )
}

/// One step in its own transaction. The server refusing the data rolls
/// the step back and counts it; anything else is the caller's error.
fn step(
    client: &mut Client,
    what: &str,
    out: &mut Written,
    f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<usize, postgres::Error>,
) -> Result<(), Error> {
    let mut tx = client.transaction().map_err(Error::server)?;
    match f(&mut tx).and_then(|n| tx.commit().map(|()| n)) {
        Ok(n) => {
            out.rows += n;
            Ok(())
        }
        Err(e) if is_refusal(&e) => {
            let why = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string());
            out.refused.push(format!("{what}: {why}"));
            Ok(())
        }
        Err(e) => Err(Error::server(e)),
    }
}

/// The server refused the statement itself (a constraint, a value too
/// long, a key twice in one upsert, ...): sent again it would be refused
/// again, so the step is skipped, as 2.0.7 skips it. What is worth a retry
/// is the server's state, not the data: the connection (SQLSTATE class 08,
/// or no SQLSTATE at all), a conflict with another transaction (40), a
/// lack of resources such as a full disk (53), a lock not available (55),
/// a shutdown or a timeout (57), a system or internal error (58, XX).
fn is_refusal(e: &postgres::Error) -> bool {
    const RETRY: [&str; 7] = ["08", "40", "53", "55", "57", "58", "XX"];
    e.code()
        .is_some_and(|c| !RETRY.iter().any(|class| c.code().starts_with(class)))
}

/// A row of one of the tables: its statement and its parameters.
trait Row {
    /// The insert.
    const STATEMENT: &'static Statement;
    /// The decimal columns as text ([`decimal`]), in order.
    fn decimals(&self) -> Vec<String> {
        Vec::new()
    }
    /// Every column's parameter; the decimals from `dec`.
    fn params<'a>(&'a self, dec: &'a [String]) -> Params<'a>;
}

/// Inserts `rows` PAGE at a time, as one statement each.
fn pages<T: Row>(tx: &mut postgres::Transaction<'_>, rows: &[T]) -> Result<usize, postgres::Error> {
    let statement = T::STATEMENT;
    for chunk in rows.chunks(PAGE) {
        let decimals: Vec<Vec<String>> = chunk.iter().map(Row::decimals).collect();
        let mut all: Params<'_> = Vec::with_capacity(chunk.len() * statement.casts.len());
        let mut values = Vec::with_capacity(chunk.len());
        for (row, dec) in chunk.iter().zip(&decimals) {
            let base = all.len();
            let placeholders: Vec<String> = statement
                .casts
                .iter()
                .enumerate()
                .map(|(i, cast)| format!("${}{cast}", base + i + 1))
                .collect();
            values.push(format!("({})", placeholders.join(", ")));
            all.extend(row.params(dec));
        }
        let sql = format!(
            "{} VALUES {} {}",
            statement.head,
            values.join(", "),
            statement.tail
        );
        tx.execute(sql.as_str(), &all)?;
    }
    Ok(rows.len())
}

/// An insert: what comes before the values, each column's cast, and the
/// conflict rule. Integers are sent as `int8` and decimals as their
/// shortest text (`::text::numeric`), so the server rounds and range-checks
/// them as it does psycopg2's literals.
struct Statement {
    head: &'static str,
    casts: &'static [&'static str],
    tail: &'static str,
}

const INT: &str = "::int8";
const DEC: &str = "::text::numeric";
const TXT: &str = "";

const MINER: &str = "INSERT INTO miners (uid, hotkey, github_id) VALUES ($1::int8, $2, $3) \
                     ON CONFLICT (uid, hotkey, github_id) DO NOTHING";

const PULL_REQUESTS: &Statement = &Statement {
    head:
        "INSERT INTO pull_requests (number, repository_full_name, uid, hotkey, github_id, title, \
           author_login, merged_at, pr_created_at, repo_weight_multiplier, base_score, \
           issue_multiplier, open_pr_spam_multiplier, repository_uniqueness_multiplier, \
           time_decay_multiplier, gittensor_tag_multiplier, merge_success_multiplier, \
           earned_score, additions, deletions, commits, total_lines_scored, gittensor_tagged, \
           merged_by_login, description, last_edited_at)",
    casts: &[
        INT, TXT, INT, TXT, TXT, TXT, TXT, TXT, TXT, DEC, DEC, DEC, DEC, DEC, DEC, DEC, DEC, DEC,
        INT, INT, INT, INT, TXT, TXT, TXT, TXT,
    ],
    tail: "ON CONFLICT (number, repository_full_name) DO UPDATE SET \
           uid = EXCLUDED.uid, hotkey = EXCLUDED.hotkey, \
           repo_weight_multiplier = EXCLUDED.repo_weight_multiplier, \
           base_score = EXCLUDED.base_score, issue_multiplier = EXCLUDED.issue_multiplier, \
           open_pr_spam_multiplier = EXCLUDED.open_pr_spam_multiplier, \
           repository_uniqueness_multiplier = EXCLUDED.repository_uniqueness_multiplier, \
           time_decay_multiplier = EXCLUDED.time_decay_multiplier, \
           gittensor_tag_multiplier = EXCLUDED.gittensor_tag_multiplier, \
           merge_success_multiplier = EXCLUDED.merge_success_multiplier, \
           earned_score = EXCLUDED.earned_score, \
           total_lines_scored = EXCLUDED.total_lines_scored, \
           gittensor_tagged = EXCLUDED.gittensor_tagged, description = EXCLUDED.description, \
           last_edited_at = EXCLUDED.last_edited_at, updated_at = NOW()",
};

const ISSUES: &Statement = &Statement {
    head:
        "INSERT INTO issues (number, pr_number, repository_full_name, title, created_at, closed_at)",
    casts: &[INT, INT, TXT, TXT, TXT, TXT],
    tail: "ON CONFLICT (number, repository_full_name) DO NOTHING",
};

const FILE_CHANGES: &Statement = &Statement {
    head: "INSERT INTO file_changes (pr_number, repository_full_name, filename, changes, \
           additions, deletions, status, patch, file_extension)",
    casts: &[INT, TXT, TXT, INT, INT, INT, TXT, TXT, TXT],
    tail: "ON CONFLICT (pr_number, repository_full_name, filename) DO NOTHING",
};

const EVALUATIONS: &Statement = &Statement {
    head: "INSERT INTO miner_evaluations (uid, hotkey, github_id, failed_reason, \
           base_total_score, total_score, total_lines_changed, total_open_prs, \
           total_closed_prs, total_merged_prs, total_prs, unique_repos_count)",
    casts: &[INT, TXT, TXT, TXT, DEC, DEC, INT, INT, INT, INT, INT, INT],
    tail: "ON CONFLICT (uid, hotkey, github_id) DO UPDATE SET \
           failed_reason = EXCLUDED.failed_reason, \
           base_total_score = EXCLUDED.base_total_score, total_score = EXCLUDED.total_score, \
           total_lines_changed = EXCLUDED.total_lines_changed, \
           total_open_prs = EXCLUDED.total_open_prs, \
           total_closed_prs = EXCLUDED.total_closed_prs, \
           total_merged_prs = EXCLUDED.total_merged_prs, total_prs = EXCLUDED.total_prs, \
           unique_repos_count = EXCLUDED.unique_repos_count, updated_at = NOW()",
};

/// A round written again after a retry replaces its rows.
const HISTORY: &Statement = &Statement {
    head: "INSERT INTO gv_round_history (round_now, uid, hotkey, github_id, reward, score, \
           failed_reason, discarded, discarded_reason)",
    casts: &[TXT, INT, TXT, TXT, TXT, TXT, TXT, TXT, TXT],
    tail: "ON CONFLICT (round_now, uid) DO UPDATE SET hotkey = EXCLUDED.hotkey, \
           github_id = EXCLUDED.github_id, reward = EXCLUDED.reward, score = EXCLUDED.score, \
           failed_reason = EXCLUDED.failed_reason, discarded = EXCLUDED.discarded, \
           discarded_reason = EXCLUDED.discarded_reason, written_at = now()",
};

/// The decimal text of a float as Python's `repr` writes its digits (the
/// shortest that reads back the same), so the server rounds the same
/// number to `DECIMAL(15,6)`.
pub(super) fn decimal(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else if x.is_nan() {
        "NaN".into()
    } else if x > 0.0 {
        "Infinity".into()
    } else {
        "-Infinity".into()
    }
}

impl Row for PullRequestRow<'_> {
    const STATEMENT: &'static Statement = PULL_REQUESTS;
    fn decimals(&self) -> Vec<String> {
        [
            self.repo_weight_multiplier,
            self.base_score,
            self.issue_multiplier,
            self.open_pr_spam_multiplier,
            self.repository_uniqueness_multiplier,
            self.time_decay_multiplier,
            self.gittensor_tag_multiplier,
            self.merge_success_multiplier,
            self.earned_score,
        ]
        .into_iter()
        .map(decimal)
        .collect()
    }
    fn params<'a>(&'a self, d: &'a [String]) -> Params<'a> {
        let mut p: Params<'a> = vec![
            &self.number,
            &self.repository_full_name,
            &self.uid,
            &self.hotkey,
            &self.github_id,
            &self.title,
            &self.author_login,
            &self.merged_at,
            &self.pr_created_at,
        ];
        p.extend(d.iter().map(|s| s as &(dyn ToSql + Sync)));
        p.extend([
            &self.additions as &(dyn ToSql + Sync),
            &self.deletions,
            &self.commits,
            &self.total_lines_scored,
            &self.gittensor_tagged,
            &self.merged_by_login,
            &self.description,
            &self.last_edited_at,
        ]);
        p
    }
}

impl Row for IssueRow<'_> {
    const STATEMENT: &'static Statement = ISSUES;
    fn params<'a>(&'a self, _: &'a [String]) -> Params<'a> {
        vec![
            &self.number,
            &self.pr_number,
            &self.repository_full_name,
            &self.title,
            &self.created_at,
            &self.closed_at,
        ]
    }
}

impl Row for FileChangeRow<'_> {
    const STATEMENT: &'static Statement = FILE_CHANGES;
    fn params<'a>(&'a self, _: &'a [String]) -> Params<'a> {
        vec![
            &self.pr_number,
            &self.repository_full_name,
            &self.filename,
            &self.changes,
            &self.additions,
            &self.deletions,
            &self.status,
            &self.patch,
            &self.file_extension,
        ]
    }
}

impl Row for EvaluationRow<'_> {
    const STATEMENT: &'static Statement = EVALUATIONS;
    fn decimals(&self) -> Vec<String> {
        vec![decimal(self.base_total_score), decimal(self.total_score)]
    }
    fn params<'a>(&'a self, d: &'a [String]) -> Params<'a> {
        vec![
            &self.uid,
            &self.hotkey,
            &self.github_id,
            &self.failed_reason,
            &d[0],
            &d[1],
            &self.total_lines_changed,
            &self.total_open_prs,
            &self.total_closed_prs,
            &self.total_merged_prs,
            &self.total_prs,
            &self.unique_repos_count,
        ]
    }
}

impl Row for HistoryRow {
    const STATEMENT: &'static Statement = HISTORY;
    fn params<'a>(&'a self, _: &'a [String]) -> Params<'a> {
        vec![
            &self.round_now,
            &self.uid,
            &self.hotkey,
            &self.github_id,
            &self.reward,
            &self.score,
            &self.failed_reason,
            &self.discarded,
            &self.discarded_reason,
        ]
    }
}
