//! The weights at the end of a step: what `decide_submission` says to do,
//! done. Computed against the chain's limits, logged, written to
//! `weights.json`; then sent plainly, committed (commit-reveal), or not
//! sent and why.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::bridge;
use crate::chain::{ChainError, Head, Inclusion};
use crate::commit_reveal;
use crate::health::{Concern, ConsensusStatus};
use crate::scoring::state::{decide_submission, Submission, SubmissionInputs, Submit};
use crate::scoring::step::Attempt;
use crate::scoring::trust;
use crate::scoring::weights::{weights_for_chain, WeightLimits};

use super::steps::Validator;
use crate::store::json::save_json;

impl Validator {
    /// Computes the weights of the scores against the chain's limits and
    /// submits them, unless that cannot or must not be done.
    pub(super) async fn set_weights(&mut self, head: Head) -> Attempt {
        let netuid = self.settings.netuid;
        let (Some(on), Some(hotkey)) = (self.source.chain(), self.hotkey.clone()) else {
            return Attempt::Concluded;
        };
        let chain = on.chain.clone();
        let hyper = match chain.hyperparameters(netuid, head).await {
            Ok(h) => h,
            Err(e) => {
                on.trouble(&e, "weights not set this step");
                return Attempt::Unknown;
            }
        };
        let decision = decide_submission(&SubmissionInputs {
            scored: self.state.is_scored(),
            dry_run: self.settings.dry_run,
            permit: self.permit().unwrap_or(false),
            version_key: self.settings.version_key,
            chain_version_key: hyper.weights_version_key,
            commit_reveal: hyper.commit_reveal == Some(true),
        });
        self.version_key_verdict(decision, hyper.weights_version_key);
        let submit = match decision {
            Submission::NoScores => {
                log::info!("weights due, but no scoring round has finished yet: nothing to set");
                return Attempt::Concluded;
            }
            Submission::Compute(submit) => submit,
        };
        let limits = WeightLimits {
            min_allowed_weights: hyper.min_allowed_weights,
            max_weight_limit: hyper.max_weight_limit,
        };
        let Some((uids, weights)) = self.compute(limits).await else {
            return Attempt::Concluded;
        };
        self.watch_consensus(&uids, &weights, hyper.commit_reveal == Some(true));
        // With commit-reveal on, the same list goes out encrypted to a drand
        // round, as bittensor 9.9.0's commit_reveal_v3_extrinsic sends it.
        let reveal = || {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let round = commit_reveal::reveal_round(
                u64::from(hyper.tempo),
                head.number,
                netuid,
                hyper.reveal_period_epochs.unwrap_or(1),
                commit_reveal::BLOCK_TIME,
                now,
            );
            let version = hyper
                .commit_reveal_version
                .unwrap_or(commit_reveal::DEFAULT_COMMIT_REVEAL_VERSION);
            (round, version)
        };
        match submit {
            Submit::DryRun => {
                if hyper.commit_reveal == Some(true) {
                    log::info!(
                        "--dry-run: netuid {netuid} has commit-reveal on: the list above would be committed \
                         for drand round {}; not submitted",
                        reveal().0
                    );
                } else {
                    log::info!(
                        "--dry-run: weights computed at block {}, not submitted",
                        head.number
                    );
                }
                Attempt::Concluded
            }
            Submit::NoPermit => {
                log::warn!(
                    "uid {} has no validator permit on netuid {netuid}: weights not submitted (scoring goes on)",
                    self.uid.unwrap_or_default()
                );
                Attempt::Concluded
            }
            Submit::VersionKeyBelow => Attempt::Concluded,
            Submit::Commit => {
                let (round, version) = reveal();
                self.commit(&chain, &hotkey, head, &uids, &weights, round, version)
                    .await
            }
            Submit::SetWeights => {
                log::info!(
                    "setting weights on {} uids at block {}",
                    uids.len(),
                    head.number
                );
                let result = chain
                    .set_weights(netuid, &uids, &weights, self.settings.version_key, &hotkey)
                    .await;
                self.settle("set_weights", "weights set", result, "")
            }
        }
    }

    /// The consensus watch at a weight setting: the trust these weights
    /// would get against the chain's last consensus, beside the trust the
    /// chain gives us now; a WARN and a `/readyz` problem when it is low or
    /// fell sharply since the last setting.
    fn watch_consensus(&mut self, uids: &[u16], weights: &[u16], commit_reveal: bool) {
        let uid = self.uid.unwrap_or_default();
        let Some(on) = self.source.chain() else {
            return;
        };
        let Some(view) = &on.consensus else {
            return;
        };
        let pairs: Vec<(u16, u16)> = uids.iter().copied().zip(weights.iter().copied()).collect();
        let input = view.watch_input(uid, &pairs, on.last_predicted, commit_reveal);
        let v = trust::verdict(&input, &on.watch);
        log::info!("consensus watch: {}", trust::log_line(&v));
        if let Some(w) = &v.warning {
            log::warn!("consensus watch: {w}");
        }
        on.last_predicted = Some(v.predicted);
        self.board.consensus(ConsensusStatus {
            trust: v.trust_now,
            predicted_trust: v.predicted,
            consensus_distance: v.distance,
            consensus_known: v.consensus_known,
            commit_reveal: v.commit_reveal,
            warning: v.warning.map(|w| w.to_string()),
        });
        self.board
            .concern(Concern::Consensus, v.readiness_problem());
    }

    /// A version key below the chain's stops submissions until either key
    /// changes: said once per change in the log, and on `/readyz` while it
    /// lasts.
    fn version_key_verdict(&mut self, decision: Submission, chain_key: u64) {
        let Some(on) = self.source.chain() else {
            return;
        };
        if decision != Submission::Compute(Submit::VersionKeyBelow) {
            if on.version_key_reported.take().is_some() {
                log::info!(
                    "the chain's weights version key is now {chain_key}: our {} is accepted again",
                    self.settings.version_key
                );
            }
            self.board.concern(Concern::Submission, None);
            return;
        }
        let problem = format!(
            "our weights version key {} is below netuid {}'s WeightsVersionKey {chain_key}: weights are \
             not submitted (the chain would refuse them); upgrade gittensor-validator, or pass --version-key \
             if the subnet changed it",
            self.settings.version_key, self.settings.netuid
        );
        if on.version_key_reported != Some(chain_key) {
            log::error!("{problem}");
            on.version_key_reported = Some(chain_key);
        }
        self.board.concern(Concern::Submission, Some(problem));
    }

    /// What became of a submission: logged by the block that holds it, or
    /// by the chain's error name; the board counts it.
    fn settle(
        &mut self,
        call: &str,
        done: &str,
        result: Result<Inclusion, ChainError>,
        after: &str,
    ) -> Attempt {
        match result {
            Ok(inclusion) => {
                log::info!(
                    "{done}: extrinsic {} in block {} ({}){after}",
                    inclusion.extrinsic_hash,
                    inclusion.block_number,
                    inclusion.block_hash
                );
                self.state.last_weights_block = Some(inclusion.block_number);
                self.board.weights_submitted(inclusion.block_number);
                Attempt::Concluded
            }
            Err(ChainError::Refused { name, block }) => {
                log::error!(
                    "{call} refused by the chain in block {block}: {name}{}",
                    hint(&name)
                );
                self.board.weights_refused();
                Attempt::Concluded
            }
            Err(e @ ChainError::Rejected(_)) => {
                log::error!("{call}: {e}; trying again at the next due step");
                self.board.weights_refused();
                Attempt::Concluded
            }
            Err(e) => {
                log::warn!("{call}: {e}; trying again at the next due step");
                Attempt::Unknown
            }
        }
    }

    /// Commits the list, timelock-encrypted to drand round `round`
    /// (commit-reveal v3 as bittensor 9.9.0 sends it); the chain reveals it
    /// once drand publishes the round.
    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &mut self,
        chain: &crate::chain::Chain,
        hotkey: &crate::wallet::Hotkey,
        head: Head,
        uids: &[u16],
        weights: &[u16],
        round: u64,
        version: u16,
    ) -> Attempt {
        let netuid = self.settings.netuid;
        let payload = commit_reveal::payload(
            &hotkey.public_key(),
            uids,
            weights,
            self.settings.version_key,
        );
        // Pairings and AES: CPU work, off the event loop.
        let encrypted = bridge::blocking(move || {
            commit_reveal::encrypt(commit_reveal::quicknet(), round, &payload, rand_core::OsRng)
        })
        .await;
        let commit = match encrypted {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                log::error!("commit-reveal: {e}; no weights this step");
                return Attempt::Concluded;
            }
            Err(e) => {
                log::error!("commit-reveal: {e}; no weights this step");
                return Attempt::Unknown;
            }
        };
        log::info!(
            "committing weights on {} uids at block {} for drand round {round} ({} bytes, version {version})",
            uids.len(),
            head.number,
            commit.len()
        );
        let result = chain
            .commit_weights(netuid, &commit, round, version, hotkey)
            .await;
        let after = format!("; the chain reveals them after drand round {round}");
        self.settle(
            "commit_timelocked_weights",
            "weights committed",
            result,
            &after,
        )
    }
}

impl Validator {
    /// §11.4 on the scores: the (uid, u16) list, logged and written to
    /// `weights.json`. `None` when there is nothing to set.
    pub(super) async fn compute(&self, limits: WeightLimits) -> Option<(Vec<u16>, Vec<u16>)> {
        let w = match weights_for_chain(&self.state.scores, self.neurons.count(), limits) {
            Ok(w) => w,
            Err(e) => {
                log::error!("weights: {e}");
                return None;
            }
        };
        if w.uids.is_empty() {
            log::warn!("weights: every weight rounds to 0, nothing to set");
            return None;
        }
        let pairs: Vec<(u16, u16)> = w
            .uids
            .iter()
            .copied()
            .zip(w.weights.iter().copied())
            .collect();
        log::info!("weights (uid, u16): {pairs:?}");
        let json = serde_json::json!({
            "step": self.state.step,
            "uids": w.uids,
            "weights": w.weights,
            "min_allowed_weights": limits.min_allowed_weights,
            "max_weight_limit": limits.max_weight_limit,
            "version_key": self.settings.version_key,
        });
        save_json(&self.board, self.dir.join("weights.json"), json).await;
        Some((w.uids, w.weights))
    }
}

/// What an operator can do about a refusal, by the chain's error name.
fn hint(name: &str) -> &'static str {
    match name {
        "SettingWeightsTooFast" => {
            " (the subnet's weights rate limit has not passed since the last weights)"
        }
        "NotEnoughStakeToSetWeights" => " (the hotkey needs more stake to set weights)",
        "IncorrectWeightVersionKey" | "IncorrectNetworkVersionKey" => {
            " (the subnet expects another weights version key: see --version-key)"
        }
        "CommitRevealEnabled" => " (the subnet has commit-reveal on: plain set_weights is refused)",
        "CommitRevealDisabled" => " (the subnet has commit-reveal off: commits are refused)",
        "IncorrectCommitRevealVersion" => " (the chain expects another commit-reveal version)",
        "TooManyUnrevealedCommits" => " (ten commits of this hotkey wait for their reveal)",
        "NoValidatorPermit" => " (the hotkey has no validator permit)",
        "NotRegistered" | "HotKeyNotRegisteredInSubNet" => {
            " (the hotkey is not registered on the subnet)"
        }
        "MaxWeightExceeded" => " (a weight is above the subnet's MaxWeightsLimit)",
        "NotSettingEnoughWeights" => " (fewer weights than the subnet's MinAllowedWeights)",
        _ => "",
    }
}
