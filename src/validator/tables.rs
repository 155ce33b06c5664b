//! The weight tables of a long-running loop (`run`, `validate`), read again
//! at every scoring round as 2.0.7 reads them (SCORING.md §11.9.6): an
//! edited table counts from the next round; a table that became unreadable
//! or is not a 2.0.7 table is refused and the last good one stays in use,
//! said at every round until the file is mended.

use std::path::{Path, PathBuf};

use crate::bridge;
use crate::inputs;
use crate::scoring::{LanguageWeights, MasterRepositories, TableDiff};

use super::Failure;

/// One table file and the last good reading of it.
struct Watched<T> {
    path: PathBuf,
    /// What it is, for the log ("master repositories").
    what: &'static str,
    table: T,
    sha256: String,
    /// Why the file's current content is refused, while it is.
    refused: Option<String>,
}

/// A table type the loop watches.
trait Table: Sized + Clone + Send + 'static {
    fn parse(text: &str, what: &str) -> Result<Self, crate::scoring::Error>;
    fn diff(&self, newer: &Self) -> TableDiff;
    fn len(&self) -> usize;
}

impl Table for MasterRepositories {
    fn parse(text: &str, what: &str) -> Result<Self, crate::scoring::Error> {
        MasterRepositories::parse(text, what)
    }
    fn diff(&self, newer: &Self) -> TableDiff {
        MasterRepositories::diff(self, newer)
    }
    fn len(&self) -> usize {
        MasterRepositories::len(self)
    }
}

impl Table for LanguageWeights {
    fn parse(text: &str, what: &str) -> Result<Self, crate::scoring::Error> {
        LanguageWeights::parse(text, what)
    }
    fn diff(&self, newer: &Self) -> TableDiff {
        LanguageWeights::diff(self, newer)
    }
    fn len(&self) -> usize {
        LanguageWeights::len(self)
    }
}

impl<T: Table> Watched<T> {
    /// The first reading: a refused table is bad input (exit 2).
    fn load(path: &Path, what: &'static str) -> Result<Watched<T>, Failure> {
        let (table, sha256) = inputs::load_table(path, T::parse)?;
        Ok(Watched {
            path: path.to_path_buf(),
            what,
            table,
            sha256,
            refused: None,
        })
    }

    /// Reads the file again (off the event loop). A change is logged in
    /// one line; a refusal keeps the last good table and is logged at
    /// every call while it lasts.
    async fn refresh(&mut self) {
        let path = self.path.clone();
        let read = bridge::blocking(move || inputs::load_table(&path, T::parse)).await;
        let fresh = match read {
            Ok(Ok(fresh)) => fresh,
            Ok(Err(e)) => return self.refuse(e.to_string()),
            Err(e) => return self.refuse(format!("{}: {e}", self.path.display())),
        };
        if let Some(why) = self.refused.take() {
            log::info!(
                "{} {}: readable again (was refused: {why})",
                self.what,
                self.path.display()
            );
        }
        let (table, sha256) = fresh;
        if sha256 != self.sha256 {
            let diff = self.table.diff(&table);
            log::info!(
                "{} {} changed: {diff}; entries: {}, sha256 {sha256} (was {})",
                self.what,
                self.path.display(),
                table.len(),
                self.sha256
            );
            self.table = table;
            self.sha256 = sha256;
        }
    }

    fn refuse(&mut self, why: String) {
        log::error!(
            "{} refused: {why}; the last good table stays in use (entries: {}, sha256 {})",
            self.what,
            self.table.len(),
            self.sha256
        );
        self.refused = Some(why);
    }

    fn problem(&self) -> Option<String> {
        self.refused.as_ref().map(|why| {
            format!(
                "{} table refused, the last good one in use (sha256 {}): {why}",
                self.what,
                &self.sha256[..12.min(self.sha256.len())]
            )
        })
    }
}

/// Both weight tables of the loop.
pub struct Tables {
    repos: Watched<MasterRepositories>,
    languages: Watched<LanguageWeights>,
}

impl Tables {
    /// Reads both tables; a refused one is bad input (exit 2), with the
    /// file and the entries named.
    pub fn load(repos: &Path, languages: &Path) -> Result<Tables, Failure> {
        let tables = Tables {
            repos: Watched::load(repos, "master repositories")?,
            languages: Watched::load(languages, "language weights")?,
        };
        log::info!(
            "tables: {} repositories from {} (sha256 {}), {} languages from {} (sha256 {})",
            tables.repos.table.len(),
            repos.display(),
            tables.repos.sha256,
            tables.languages.table.len(),
            languages.display(),
            tables.languages.sha256
        );
        Ok(tables)
    }

    /// Reads both files again before a round, and logs what the round
    /// uses as 2.0.7 does ("Total Repositories loaded ...").
    pub async fn refresh(&mut self) {
        self.repos.refresh().await;
        self.languages.refresh().await;
        log::info!(
            "tables: {} repositories from {}, {} languages from {}",
            self.repos.table.len(),
            self.repos.path.display(),
            self.languages.table.len(),
            self.languages.path.display()
        );
    }

    /// The two files: master repositories, language weights.
    pub fn paths(&self) -> (&Path, &Path) {
        (&self.repos.path, &self.languages.path)
    }

    /// The tables a round uses now.
    pub fn current(&self) -> (MasterRepositories, LanguageWeights) {
        (self.repos.table.clone(), self.languages.table.clone())
    }

    /// Why a table is not what its file says, for `/readyz`; empty when
    /// both files are in use as they are.
    pub fn problems(&self) -> Vec<String> {
        [self.repos.problem(), self.languages.problem()]
            .into_iter()
            .flatten()
            .collect()
    }
}
