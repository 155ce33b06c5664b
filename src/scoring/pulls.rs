//! Turning GraphQL pull-request pages into counts and accepted pull
//! requests (SCORING.md §4), and building a pull request (§5).

use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::pr::{Issue, PullRequest};
use super::py::{fnmatch, strip};
use super::tables::MasterRepositories;
use super::{
    parse_time, MAX_ACCEPTED_PRS, MERGED_PR_LOOKBACK_DAYS, MERGE_SUCCESS_RATIO_APPLICATION_DATE,
    PR_PAGE_LIMIT, PR_TAGLINE, TAGLINE_WINDOW_CHARS,
};

/// `{ login }` as GraphQL returns it for actors and owners.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Actor {
    /// The actor's login.
    #[serde(default)]
    pub login: Option<String>,
}

/// `{ name }` of a branch.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BranchRef {
    /// The branch name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A repository reference of a pull request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoRef {
    /// Repository name.
    #[serde(default)]
    pub name: Option<String>,
    /// Repository owner.
    #[serde(default)]
    pub owner: Option<Actor>,
    /// The default branch (null for an empty repository).
    #[serde(default)]
    pub default_branch_ref: Option<BranchRef>,
}

impl RepoRef {
    /// `owner/name`, as GitHub spells it.
    pub fn full_name(&self) -> Option<String> {
        let owner = self.owner.as_ref()?.login.as_deref()?;
        let name = self.name.as_deref()?;
        Some(format!("{owner}/{name}"))
    }
}

/// A GraphQL connection's `nodes`, whose items may be null.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct Nodes<T> {
    /// The items; null items are kept as `None`. GitHub's schema lets the
    /// list itself be null: that reads as an empty list.
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    pub nodes: Vec<Option<T>>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<Option<T>>>::deserialize(d)?.unwrap_or_default())
}

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Nodes { nodes: Vec::new() }
    }
}

/// An issue closed by a pull request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueNode {
    /// Issue number.
    #[serde(default)]
    pub number: Option<u64>,
    /// Issue title.
    #[serde(default)]
    pub title: Option<String>,
    /// `OPEN` or `CLOSED`.
    #[serde(default)]
    pub state: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Close time.
    #[serde(default)]
    pub closed_at: Option<String>,
    /// Issue author.
    #[serde(default)]
    pub author: Option<Actor>,
}

/// A review of a pull request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewNode {
    /// The reviewer.
    #[serde(default)]
    pub author: Option<Actor>,
}

/// One pull-request node of the GraphQL answer. Every field is optional:
/// GitHub nulls many of them, and a missing one must not fail the page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrNode {
    /// PR title.
    #[serde(default)]
    pub title: Option<String>,
    /// PR number.
    #[serde(default)]
    pub number: Option<u64>,
    /// Lines added.
    #[serde(default)]
    pub additions: Option<i64>,
    /// Lines deleted.
    #[serde(default)]
    pub deletions: Option<i64>,
    /// Merge time.
    #[serde(default)]
    pub merged_at: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Close time.
    #[serde(default)]
    pub closed_at: Option<String>,
    /// Last edit of the description.
    #[serde(default)]
    pub last_edited_at: Option<String>,
    /// Description as plain text.
    #[serde(default)]
    pub body_text: Option<String>,
    /// `OPEN`, `CLOSED` or `MERGED`.
    #[serde(default)]
    pub state: Option<String>,
    /// Base repository.
    #[serde(default)]
    pub repository: Option<RepoRef>,
    /// Head repository (null for a deleted fork).
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
    /// Base branch.
    #[serde(default)]
    pub base_ref_name: Option<String>,
    /// Head branch.
    #[serde(default)]
    pub head_ref_name: Option<String>,
    /// PR author.
    #[serde(default)]
    pub author: Option<Actor>,
    /// `OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, ...
    #[serde(default)]
    pub author_association: Option<String>,
    /// Who merged it.
    #[serde(default)]
    pub merged_by: Option<Actor>,
    /// Issues the PR closes.
    #[serde(default)]
    pub closing_issues_references: Option<Nodes<IssueNode>>,
    /// Approving reviews.
    #[serde(default)]
    pub reviews: Option<Nodes<ReviewNode>>,
    /// Its commits, counted (stored, not scored).
    #[serde(default)]
    pub commits: Option<TotalCount>,
}

/// A connection's `totalCount`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalCount {
    /// The count.
    #[serde(default)]
    pub total_count: Option<i64>,
}

/// `owner/name` of a raw node, as far as it can be read, for a log line.
fn raw_repository(raw: &Value) -> String {
    let repo = raw.get("repository");
    let field = |v: Option<&Value>| -> String {
        let text = v.and_then(Value::as_str).unwrap_or("?");
        text.chars()
            .filter(char::is_ascii_graphic)
            .take(100)
            .collect()
    };
    format!(
        "{}/{}",
        field(
            repo.and_then(|r| r.get("owner"))
                .and_then(|o| o.get("login"))
        ),
        field(repo.and_then(|r| r.get("name")))
    )
}

/// Why paging stopped. Every variant keeps what was counted before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `hasNextPage` was false.
    LastPage,
    /// A page had no nodes.
    EmptyPage,
    /// MAX_ACCEPTED_PRS were accepted.
    Cap,
    /// The answer had an `errors` member.
    GraphqlErrors(String),
    /// `data.node` was null (unknown user id).
    NullNode,
    /// The answer was not shaped like a pull-request page.
    Malformed(String),
}

/// What to do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStep {
    /// Ask for the page after this cursor.
    Next(String),
    /// Stop paging.
    Done(Stop),
}

/// The outcome of collecting a miner's pull requests.
#[derive(Debug, Clone, Default)]
pub struct CollectedPrs {
    /// Open PRs in active repositories.
    pub open_pr_count: u32,
    /// Closed, unmerged PRs in active repositories in the lookback window.
    pub closed_pr_count: u32,
    /// Accepted PRs merged after MERGE_SUCCESS_RATIO_APPLICATION_DATE.
    pub merged_pr_count: u32,
    /// Accepted merged PRs, in the order GitHub returned them.
    pub pull_requests: Vec<PullRequest>,
}

/// The nodes of a GraphQL answer exactly as [`PrCollector::add_page`]
/// folds them in (none for an answer it stops on): what a recording keeps
/// to replay the round.
pub fn page_nodes(answer: &Value) -> &[Value] {
    page_parts(answer).map_or(&[], |(_, nodes)| nodes.as_slice())
}

/// A page's `pullRequests` connection and its nodes, or why paging stops.
fn page_parts(answer: &Value) -> Result<(&Value, &Vec<Value>), Stop> {
    if let Some(errors) = answer.get("errors").filter(|e| !e.is_null()) {
        return Err(Stop::GraphqlErrors(graphql_error_summary(errors)));
    }
    let node = match answer.get("data").map(|d| d.get("node")) {
        Some(Some(n)) if !n.is_null() => n,
        Some(_) => return Err(Stop::NullNode),
        None => return Err(Stop::Malformed("no data".into())),
    };
    let Some(conn) = node.get("pullRequests").filter(|c| c.is_object()) else {
        return Err(Stop::Malformed("no pullRequests".into()));
    };
    match conn.get("nodes") {
        Some(Value::Array(nodes)) => Ok((conn, nodes)),
        _ => Err(Stop::Malformed("no nodes".into())),
    }
}

/// Folds GraphQL pages into [`CollectedPrs`]; the caller fetches pages.
#[derive(Debug)]
pub struct PrCollector<'a> {
    repos: &'a MasterRepositories,
    lookback_start: OffsetDateTime,
    out: CollectedPrs,
}

impl<'a> PrCollector<'a> {
    /// A collector for a round at `now`.
    pub fn new(repos: &'a MasterRepositories, now: OffsetDateTime) -> Self {
        PrCollector {
            repos,
            lookback_start: now - Duration::days(MERGED_PR_LOOKBACK_DAYS),
            out: CollectedPrs::default(),
        }
    }

    /// The `first:` of the next page: `min(100, 1000 - accepted)`.
    pub fn next_limit(&self) -> usize {
        PR_PAGE_LIMIT.min(MAX_ACCEPTED_PRS.saturating_sub(self.out.pull_requests.len()))
    }

    /// Folds one GraphQL answer in and says whether to go on.
    pub fn add_page(&mut self, answer: &Value) -> PageStep {
        let (conn, nodes) = match page_parts(answer) {
            Ok(parts) => parts,
            Err(stop) => return PageStep::Done(stop),
        };
        if nodes.is_empty() {
            return PageStep::Done(Stop::EmptyPage);
        }
        for raw in nodes {
            if raw.is_null() {
                continue;
            }
            match PrNode::deserialize(raw) {
                Ok(pr) => self.add_node(&pr),
                Err(e) => log::warn!(
                    "skipping pull request {}#{}: {e}",
                    raw_repository(raw),
                    raw.get("number").unwrap_or(&Value::Null)
                ),
            }
        }
        if self.out.pull_requests.len() >= MAX_ACCEPTED_PRS {
            return PageStep::Done(Stop::Cap);
        }
        let info = conn.get("pageInfo");
        let has_next = info
            .and_then(|i| i.get("hasNextPage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !has_next {
            return PageStep::Done(Stop::LastPage);
        }
        match info
            .and_then(|i| i.get("endCursor"))
            .and_then(Value::as_str)
        {
            Some(cursor) => PageStep::Next(cursor.to_string()),
            None => PageStep::Done(Stop::Malformed("hasNextPage without endCursor".into())),
        }
    }

    /// Folds one pull-request node in (the per-PR rules of §4).
    pub fn add_node(&mut self, node: &PrNode) {
        let Some(repo) = node.repository.as_ref().and_then(RepoRef::full_name) else {
            log::debug!("skipping PR #{:?}: no repository", node.number);
            return;
        };
        let key = repo.to_lowercase();
        let state = node.state.as_deref().unwrap_or("");
        let merged_at = node.merged_at.as_deref().map(parse_time);
        let closed_at = node.closed_at.as_deref().and_then(parse_time);

        if state == "OPEN" && self.repos.is_active(&key) {
            self.out.open_pr_count += 1;
        }
        if state == "CLOSED" && merged_at.is_none() && self.repos.is_active(&key) {
            if let Some(closed) = closed_at {
                if closed >= self.lookback_start && closed > MERGE_SUCCESS_RATIO_APPLICATION_DATE {
                    self.out.closed_pr_count += 1;
                }
            }
        }
        let merged_at = match merged_at {
            None => return,
            Some(Some(t)) => t,
            Some(None) => {
                log::debug!("skipping {repo}#{:?}: bad mergedAt", node.number);
                return;
            }
        };
        if let Some(why) = self.skip_reason(node, &key, merged_at) {
            log::debug!("skipping {repo}#{:?}: {why}", node.number);
            return;
        }
        match build_pull_request(node, repo, merged_at) {
            Ok(pr) => {
                if merged_at > MERGE_SUCCESS_RATIO_APPLICATION_DATE {
                    self.out.merged_pr_count += 1;
                }
                self.out.pull_requests.push(pr);
            }
            Err(why) => log::debug!("skipping PR #{:?}: {why}", node.number),
        }
    }

    /// The first of the seven skip rules of §4 that holds, if any.
    fn skip_reason(
        &self,
        node: &PrNode,
        key: &str,
        merged_at: OffsetDateTime,
    ) -> Option<&'static str> {
        let Some(master) = self.repos.get(key) else {
            return Some("not a master repository");
        };
        if merged_at < self.lookback_start {
            return Some("merged before the lookback window");
        }
        if matches!(
            node.author_association.as_deref(),
            Some("OWNER" | "MEMBER" | "COLLABORATOR")
        ) {
            return Some("author is owner, member or collaborator");
        }
        let author = node.author.as_ref().and_then(|a| a.login.as_deref());
        if let Some(merger) = node.merged_by.as_ref() {
            if merger.login.as_deref() == author {
                let other_approver = node.reviews.iter().flat_map(|r| r.nodes.iter()).any(|r| {
                    r.as_ref()
                        .and_then(|r| r.author.as_ref())
                        .and_then(|a| a.login.as_deref())
                        .is_some_and(|login| Some(login) != author)
                });
                if !other_approver {
                    return Some("self-merged without another approver");
                }
            }
        }
        let default = node
            .repository
            .as_ref()
            .and_then(|r| r.default_branch_ref.as_ref())
            .and_then(|b| b.name.as_deref())
            .unwrap_or("main");
        let extra = &master.additional_acceptable_branches;
        let internal = node
            .head_repository
            .as_ref()
            .and_then(RepoRef::full_name)
            .is_some_and(|head| head.to_lowercase() == key);
        let head = node.head_ref_name.as_deref().unwrap_or("");
        if internal
            && std::iter::once(default)
                .chain(extra.iter().map(String::as_str))
                .any(|glob| fnmatch(head, glob))
        {
            return Some("merged from an acceptable branch of the same repository");
        }
        let base = node.base_ref_name.as_deref().unwrap_or("");
        if base != default && !extra.iter().any(|glob| fnmatch(base, glob)) {
            return Some("base branch is not acceptable");
        }
        if master.inactive_at.is_some_and(|t| merged_at >= t) {
            return Some("merged after the repository became inactive");
        }
        None
    }

    /// The counts and accepted pull requests so far.
    pub fn finish(self) -> CollectedPrs {
        self.out
    }
}

fn graphql_error_summary(errors: &Value) -> String {
    let first = errors.as_array().and_then(|a| a.first());
    let kind = first
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("error");
    let message = first
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message: String = message.chars().take(200).collect();
    format!("{kind}: {message}")
}

/// Builds an accepted pull request (§5).
fn build_pull_request(
    node: &PrNode,
    repo: String,
    merged_at: OffsetDateTime,
) -> Result<PullRequest, &'static str> {
    let number = node.number.ok_or("no number")?;
    let created_at = node
        .created_at
        .as_deref()
        .and_then(parse_time)
        .ok_or("no createdAt")?;
    let last_edited_at = match node.last_edited_at.as_deref() {
        None => None,
        Some(s) => Some(parse_time(s).ok_or("bad lastEditedAt")?),
    };
    let issues = node
        .closing_issues_references
        .iter()
        .flat_map(|c| c.nodes.iter().flatten())
        .filter(|i| i.closed_at.is_some() && i.state.as_deref() == Some("CLOSED"))
        .map(|i| Issue {
            number: i.number.unwrap_or(0),
            title: i.title.clone().unwrap_or_default(),
            state: i.state.clone(),
            created_at: i.created_at.as_deref().and_then(parse_time),
            closed_at: i.closed_at.as_deref().and_then(parse_time),
            author_login: i.author.as_ref().and_then(|a| a.login.clone()),
        })
        .collect();
    let tagged = is_tagged(node.body_text.as_deref().unwrap_or(""))
        && last_edited_at.is_none_or(|t| t <= merged_at);
    let mut pr = PullRequest::new(
        repo,
        number,
        node.title.clone().unwrap_or_default(),
        created_at,
        merged_at,
        last_edited_at,
        node.author.as_ref().and_then(|a| a.login.clone()),
        issues,
        tagged,
    );
    // What 2.0.7 stores beside the score (its `from_graphql_response`).
    pr.additions = node.additions.unwrap_or(0);
    pr.deletions = node.deletions.unwrap_or(0);
    pr.commits = node
        .commits
        .as_ref()
        .and_then(|c| c.total_count)
        .unwrap_or(0);
    pr.merged_by_login = node.merged_by.as_ref().and_then(|a| a.login.clone());
    pr.description = node.body_text.clone();
    Ok(pr)
}

/// Whether the body's last 100 characters end with PR_TAGLINE (§5).
pub fn is_tagged(body: &str) -> bool {
    let count = body.chars().count();
    let tail: String = body
        .chars()
        .skip(count.saturating_sub(TAGLINE_WINDOW_CHARS))
        .collect();
    let cleaned = strip(&tail).trim_end_matches(['.', ',', '!', '?', ';', ':', ' ', '\t', '\n']);
    cleaned.to_lowercase().ends_with(&PR_TAGLINE.to_lowercase())
}
