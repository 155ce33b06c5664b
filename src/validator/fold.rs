//! The loop's round: one round on the neurons of the last read, judged,
//! folded into the moving average (or discarded, the same way whatever
//! the source), its report written and handed to the results database.

use std::collections::BTreeMap;

use crate::pipeline::RoundExtras;
use crate::scoring::step::WeightsBy;

use super::round::{print_table, round_budget, round_until_stopped, Round, RoundMiners};
use super::steps::{RoundEnd, Validator};
use super::Failure;
use crate::store::json::{note_file_store, save_json};

impl Validator {
    /// One scoring round on the neurons of the last read, with the weight
    /// tables read again; judged, and folded into the moving average
    /// unless it failed on our side (§11.9.7) or the moving average refuses
    /// it; its report written, the results database handed it.
    pub(super) async fn round(&mut self) -> Result<RoundEnd, Failure> {
        let ctx = self.round.next_round(&self.board).await;
        let number = self.state.rounds + 1;
        let count = self.neurons.count();
        let (what, dendrite_timeout) = match self.neurons {
            RoundMiners::Axons(..) => ("uids", Some(self.settings.dendrite_timeout)),
            RoundMiners::Listed(_) => ("miners", None),
        };
        log::info!("round {number} starting: {count} {what}");
        self.board.expect_progress(
            round_budget(&self.round.options, count, dendrite_timeout),
            &format!("round {number}"),
        );
        let miners = self.neurons.clone();
        let Round {
            mut report,
            interrupted,
        } = round_until_stopped(
            self.round.client.clone(),
            miners,
            ctx,
            self.round.options,
            RoundExtras {
                recorder: None,
                files: self.round.files.clone(),
            },
            &self.shutdown,
        )
        .await;
        if interrupted {
            // Its rewards would pull every score toward uid 0.
            return Ok(RoundEnd::Interrupted);
        }
        self.rounds_done += 1;
        match self.round.judge(&mut report) {
            Err(why) => self.board.round_discarded(&why),
            Ok(()) => match self.state.fold_round(&report.rewards, self.settings.alpha) {
                Ok(()) => {
                    self.board.round(&report);
                    if self.weights_by == WeightsBy::WithTheRound {
                        let weights: BTreeMap<u16, f64> = self.state.normalized();
                        save_json(&self.board, self.dir.join("weights.json"), weights).await;
                    }
                }
                // A reward for a uid the scores do not have: nothing is
                // folded, as a discarded round.
                Err(e) => {
                    let why = format!("moving average: {e}");
                    log::error!("{why}; the round is discarded");
                    self.board.round_discarded(&why);
                    report.discarded = Some(why);
                }
            },
        }
        self.round.store_round(&report, &self.board);
        print_table(&report);
        note_file_store(&self.board, self.round.files.as_deref());
        save_json(&self.board, self.dir.join("report.json"), report).await;
        Ok(RoundEnd::Done)
    }
}
