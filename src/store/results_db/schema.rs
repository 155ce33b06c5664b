//! The tables: 2.0.7's seven (same names, columns in the same order, types,
//! keys, checks, defaults and indexes as its `storage/sql/*.sql` create;
//! our own text), then ours, prefixed `gv_` so they never clash: the schema
//! version and the round history.

/// The schema version this build writes (`gv_schema_version`). A later
/// change to our tables adds a step to [`MIGRATIONS`] and bumps it.
pub const SCHEMA_VERSION: i32 = 1;

/// Taken while the tables are created, so two validators sharing a
/// database do not race (an arbitrary key of ours).
pub const MIGRATION_LOCK: i64 = 0x6776_5f72_6573_756c;

/// 2.0.7's tables, in the order its migrator runs them (foreign keys point
/// backwards). Times its database sets itself keep 2.0.7's defaults
/// (Chicago wall time), so a dashboard reads ours as it reads theirs.
pub const REFERENCE_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS repositories (
    full_name    VARCHAR(255)  PRIMARY KEY,
    name         VARCHAR(255)  NOT NULL,
    owner        VARCHAR(255)  NOT NULL,
    weight       DECIMAL(10,2) NOT NULL,
    inactive_at  TIMESTAMPTZ   DEFAULT NULL,
    created_at   TIMESTAMPTZ   DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_repositories_name ON repositories (name);
CREATE INDEX IF NOT EXISTS idx_repositories_inactive_at ON repositories (inactive_at);

CREATE TABLE IF NOT EXISTS languages (
    extension   VARCHAR(16)   PRIMARY KEY,
    weight      DECIMAL(10,2) NOT NULL,
    created_at  TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    updated_at  TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago')
);
CREATE INDEX IF NOT EXISTS idx_languages_extension ON languages (extension);

CREATE TABLE IF NOT EXISTS miners (
    uid         INTEGER       NOT NULL,
    hotkey      VARCHAR(255)  NOT NULL,
    github_id   VARCHAR(255)  NOT NULL,
    created_at  TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    updated_at  TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    PRIMARY KEY (uid, hotkey, github_id),
    CONSTRAINT chk_miners_uid CHECK (uid >= 0)
);
CREATE INDEX IF NOT EXISTS idx_miners_uid ON miners (uid);
CREATE INDEX IF NOT EXISTS idx_miners_hotkey ON miners (hotkey);
CREATE INDEX IF NOT EXISTS idx_miners_github_id ON miners (github_id);

CREATE TABLE IF NOT EXISTS miner_evaluations (
    id                    BIGSERIAL     PRIMARY KEY,
    uid                   INTEGER       NOT NULL,
    hotkey                VARCHAR(255)  NOT NULL,
    github_id             VARCHAR(255)  NOT NULL,
    failed_reason         TEXT,
    base_total_score      DECIMAL(15,6) DEFAULT 0.0,
    total_score           DECIMAL(15,6) DEFAULT 0.0,
    total_lines_changed   INTEGER       DEFAULT 0,
    total_open_prs        INTEGER       DEFAULT 0,
    total_closed_prs      INTEGER       DEFAULT 0,
    total_merged_prs      INTEGER       DEFAULT 0,
    total_prs             INTEGER       DEFAULT 0,
    unique_repos_count    INTEGER       DEFAULT 0,
    evaluation_timestamp  TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    created_at            TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    updated_at            TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    FOREIGN KEY (uid, hotkey, github_id) REFERENCES miners (uid, hotkey, github_id) ON DELETE CASCADE,
    CONSTRAINT unique_miner_evaluation UNIQUE (uid, hotkey, github_id)
);
CREATE INDEX IF NOT EXISTS idx_miner_evaluations_uid ON miner_evaluations (uid);
CREATE INDEX IF NOT EXISTS idx_miner_evaluations_hotkey ON miner_evaluations (hotkey);
CREATE INDEX IF NOT EXISTS idx_miner_evaluations_github_id ON miner_evaluations (github_id);
CREATE INDEX IF NOT EXISTS idx_miner_evaluations_evaluation_timestamp ON miner_evaluations (evaluation_timestamp);

CREATE TABLE IF NOT EXISTS pull_requests (
    number                            INTEGER       NOT NULL,
    repository_full_name              VARCHAR(255)  NOT NULL,
    uid                               INTEGER       NOT NULL,
    hotkey                            VARCHAR(255)  NOT NULL,
    github_id                         VARCHAR(255)  NOT NULL,
    title                             TEXT          NOT NULL,
    author_login                      VARCHAR(255)  NOT NULL,
    merged_at                         TIMESTAMP,
    pr_created_at                     TIMESTAMP     NOT NULL,
    repo_weight_multiplier            DECIMAL(15,6) DEFAULT 1.0,
    base_score                        DECIMAL(15,6) DEFAULT 0.0,
    issue_multiplier                  DECIMAL(15,6) DEFAULT 1.0,
    open_pr_spam_multiplier           DECIMAL(15,6) DEFAULT 1.0,
    repository_uniqueness_multiplier  DECIMAL(15,6) DEFAULT 1.0,
    time_decay_multiplier             DECIMAL(15,6) DEFAULT 1.0,
    gittensor_tag_multiplier          DECIMAL(15,6) DEFAULT 1.0,
    merge_success_multiplier          DECIMAL(15,6) DEFAULT 1.0,
    earned_score                      DECIMAL(15,6) DEFAULT 0.0,
    additions                         INTEGER       DEFAULT 0,
    deletions                         INTEGER       DEFAULT 0,
    commits                           INTEGER       DEFAULT 0,
    total_lines_scored                INTEGER       DEFAULT 0,
    gittensor_tagged                  BOOLEAN       DEFAULT FALSE,
    merged_by_login                   VARCHAR(255),
    description                       TEXT,
    last_edited_at                    TIMESTAMP,
    created_at                        TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    updated_at                        TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    PRIMARY KEY (number, repository_full_name),
    FOREIGN KEY (uid, hotkey, github_id) REFERENCES miners (uid, hotkey, github_id) ON DELETE CASCADE,
    CONSTRAINT chk_pull_requests_additions CHECK (additions >= 0),
    CONSTRAINT chk_pull_requests_deletions CHECK (deletions >= 0),
    CONSTRAINT chk_pull_requests_commits CHECK (commits >= 0),
    CONSTRAINT chk_pull_requests_total_lines_scored CHECK (total_lines_scored >= 0),
    CONSTRAINT chk_pull_requests_repo_weight_multiplier CHECK (repo_weight_multiplier >= 0),
    CONSTRAINT chk_pull_requests_base_score CHECK (base_score >= 0),
    CONSTRAINT chk_pull_requests_issue_multiplier CHECK (issue_multiplier >= 1),
    CONSTRAINT chk_pull_requests_open_pr_spam_multiplier CHECK (open_pr_spam_multiplier <= 1),
    CONSTRAINT chk_pull_requests_repository_uniqueness_multiplier CHECK (repository_uniqueness_multiplier >= 1),
    CONSTRAINT chk_pull_requests_time_decay_multiplier CHECK (time_decay_multiplier <= 1),
    CONSTRAINT chk_pull_requests_gittensor_tag_multiplier CHECK (gittensor_tag_multiplier >= 1),
    CONSTRAINT chk_pull_requests_merge_success_multiplier CHECK (merge_success_multiplier <= 1),
    CONSTRAINT chk_pull_requests_earned_score CHECK (earned_score >= 0)
);
CREATE INDEX IF NOT EXISTS idx_pull_requests_author ON pull_requests (author_login);
CREATE INDEX IF NOT EXISTS idx_pull_requests_merged_at ON pull_requests (merged_at);
CREATE INDEX IF NOT EXISTS idx_pull_requests_merged_by ON pull_requests (merged_by_login);
CREATE INDEX IF NOT EXISTS idx_pull_requests_uid ON pull_requests (uid);
CREATE INDEX IF NOT EXISTS idx_pull_requests_hotkey ON pull_requests (hotkey);
CREATE INDEX IF NOT EXISTS idx_pull_requests_github_id ON pull_requests (github_id);
CREATE INDEX IF NOT EXISTS idx_pull_requests_earned_score ON pull_requests (earned_score);

CREATE TABLE IF NOT EXISTS issues (
    number                INTEGER       NOT NULL,
    pr_number             INTEGER       NOT NULL,
    repository_full_name  VARCHAR(255)  NOT NULL,
    title                 TEXT          NOT NULL,
    created_at            TIMESTAMP,
    closed_at             TIMESTAMP,
    PRIMARY KEY (number, repository_full_name),
    FOREIGN KEY (pr_number, repository_full_name)
        REFERENCES pull_requests (number, repository_full_name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_issues_pr_number ON issues (pr_number);
CREATE INDEX IF NOT EXISTS idx_issues_repository ON issues (repository_full_name);
CREATE INDEX IF NOT EXISTS idx_issues_created_at ON issues (created_at);
CREATE INDEX IF NOT EXISTS idx_issues_closed_at ON issues (closed_at);

CREATE TABLE IF NOT EXISTS file_changes (
    id                    BIGSERIAL     PRIMARY KEY,
    pr_number             INTEGER       NOT NULL,
    repository_full_name  VARCHAR(255)  NOT NULL,
    filename              VARCHAR(500)  NOT NULL,
    changes               INTEGER       DEFAULT 0,
    additions             INTEGER       DEFAULT 0,
    deletions             INTEGER       DEFAULT 0,
    status                VARCHAR(50)   NOT NULL,
    file_extension        VARCHAR(50)   NOT NULL DEFAULT '',
    patch                 TEXT,
    created_at            TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    updated_at            TIMESTAMP     DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'America/Chicago'),
    FOREIGN KEY (pr_number, repository_full_name)
        REFERENCES pull_requests (number, repository_full_name) ON DELETE CASCADE,
    CONSTRAINT unique_file_change UNIQUE (pr_number, repository_full_name, filename),
    CONSTRAINT chk_file_changes_additions CHECK (additions >= 0),
    CONSTRAINT chk_file_changes_deletions CHECK (deletions >= 0),
    CONSTRAINT chk_file_changes_changes CHECK (changes >= 0)
);
CREATE INDEX IF NOT EXISTS idx_file_changes_pr_number ON file_changes (pr_number);
CREATE INDEX IF NOT EXISTS idx_file_changes_repository_name ON file_changes (repository_full_name);
CREATE INDEX IF NOT EXISTS idx_file_changes_filename ON file_changes (filename);
CREATE INDEX IF NOT EXISTS idx_file_changes_file_extension ON file_changes (file_extension);
CREATE INDEX IF NOT EXISTS idx_file_changes_status ON file_changes (status);
"#;

/// Ours. Times are UTC; the history's numbers are the round's own floats
/// (a reward of 1e-9 is not 0 here).
pub const OUR_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS gv_schema_version (
    version     INTEGER      PRIMARY KEY,
    applied_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS gv_round_history (
    round_now         TIMESTAMP         NOT NULL,
    uid               INTEGER           NOT NULL,
    hotkey            VARCHAR(255)      NOT NULL,
    github_id         VARCHAR(255)      NOT NULL,
    reward            DOUBLE PRECISION  NOT NULL,
    score             DOUBLE PRECISION  NOT NULL,
    failed_reason     TEXT,
    discarded         BOOLEAN           NOT NULL,
    discarded_reason  TEXT,
    written_at        TIMESTAMPTZ       NOT NULL DEFAULT now(),
    PRIMARY KEY (round_now, uid)
);
CREATE INDEX IF NOT EXISTS idx_gv_round_history_uid ON gv_round_history (uid, round_now);
"#;

/// Steps from one version to the next: `MIGRATIONS[i]` takes a database at
/// version `i + 1` to `i + 2`. Version 1 is the tables above.
pub const MIGRATIONS: &[&str] = &[];
