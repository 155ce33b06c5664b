//! `status`: connect, read the subnet at the best block, print, exit. Our
//! uid, permit, stake, last weights and the next due, commit-reveal, our
//! trust on chain and the trust our weights would get against the chain's
//! consensus, and the subnet's validators by stake. `--json` for scripts.

use std::path::PathBuf;

use clap::Args;
use gittensor_validator::chain::{Chain, ChainConfig, ConsensusView, Head, Hyperparameters};
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::scoring::trust::{self, from_u16};
use serde::Serialize;

use super::common::{ChainArgs, WalletArgs, WatchArgs};
use gittensor_validator::validator::{runtime, Failure};

#[derive(Args)]
pub(crate) struct StatusArgs {
    /// The subnet.
    #[arg(long, env = "NETUID", default_value_t = 74)]
    pub(crate) netuid: u16,
    #[command(flatten)]
    pub(crate) wallet: WalletArgs,
    /// Our hotkey (SS58) instead of the wallet's.
    #[arg(long = "ss58")]
    pub(crate) ss58: Option<String>,
    #[command(flatten)]
    pub(crate) chain: ChainArgs,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    /// Blocks between two weight settings, as `validate --epoch-length`.
    #[arg(long, default_value_t = 100)]
    pub(crate) epoch_length: u64,
    /// A weights file `validate` wrote (weights.json: uids, weights): the
    /// trust those weights would get is shown too.
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// One validator of the table.
#[derive(Debug, Serialize)]
pub(crate) struct ValidatorRow {
    uid: u16,
    hotkey: String,
    /// Stake as the runtime weighs it, in TAO (alpha on today's runtime).
    stake: f64,
    /// `ValidatorTrust` on chain, u16.
    trust_u16: u16,
    /// The same as a fraction.
    trust: f64,
    /// The trust its weights on chain get against the chain's consensus.
    recomputed_u16: u16,
    /// The interval the runtime's value must fall in (u16 rounding of the
    /// consensus and of the runtime's fixed point).
    recomputed_range_u16: (u16, u16),
    /// The share of its weight above consensus.
    distance: f64,
    /// The block of its last weights.
    last_update: u64,
    /// It has weights on chain.
    has_weights: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Status {
    netuid: u16,
    block: u64,
    endpoint: String,
    hotkey: String,
    uid: Option<u16>,
    permit: bool,
    stake: f64,
    last_weights_block: Option<u64>,
    next_due_block: Option<u64>,
    commit_reveal: bool,
    reveal_period_epochs: Option<u64>,
    tempo: u16,
    consensus_known: bool,
    /// Our `ValidatorTrust` on chain.
    trust: Option<f64>,
    /// The trust our weights on chain would get against the consensus.
    predicted_trust: Option<f64>,
    /// The share of our weights on chain above consensus.
    consensus_distance: Option<f64>,
    /// The trust the `--weights` file would get.
    file_predicted_trust: Option<f64>,
    /// The watch's warning on our weights (the `--weights` file's when
    /// given, else ours on chain), with the likely causes.
    warning: Option<String>,
    note: Option<String>,
    validators: Vec<ValidatorRow>,
}

pub(crate) fn status(args: StatusArgs) -> Result<(), Failure> {
    let ss58 = match &args.ss58 {
        Some(s) => {
            gittensor_validator::wallet::public_key_of(s)
                .ok_or_else(|| Failure::Input(format!("--ss58 {s:?} is not an SS58 address")))?;
            s.clone()
        }
        None => args.wallet.load()?.ss58().to_string(),
    };
    let file_weights = match &args.weights {
        Some(p) => Some(read_weights(p)?),
        None => None,
    };
    let endpoint = args.chain.endpoint()?;
    let limits = args.watch.limits()?;
    let rt = runtime()?;
    let status = rt.block_on(async {
        let chain = Chain::new(ChainConfig::builder().endpoint(endpoint.clone()).build());
        let head = chain.best_block().await.map_err(chain_failure)?;
        let metagraph = chain
            .metagraph(args.netuid, head)
            .await
            .map_err(chain_failure)?;
        let hyper = chain
            .hyperparameters(args.netuid, head)
            .await
            .map_err(chain_failure)?;
        let view = chain
            .consensus_view(args.netuid, &metagraph, head)
            .await
            .map_err(chain_failure)?;
        Ok::<_, Failure>(build(
            &args,
            &endpoint,
            &ss58,
            head,
            &metagraph,
            &hyper,
            &view,
            file_weights.as_deref(),
            &limits,
        ))
    })?;
    gittensor_validator::validator::let_go(rt);
    let text = if args.json {
        serde_json::to_string_pretty(&status).map_err(|e| Failure::Other(e.to_string()))? + "\n"
    } else {
        render(&status)
    };
    use std::io::Write as _;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Other(format!("stdout: {e}")))
}

fn chain_failure(e: gittensor_validator::chain::ChainError) -> Failure {
    Failure::Other(format!("chain: {e}"))
}

/// `validate`'s weights.json: `{"uids": [...], "weights": [...]}`.
fn read_weights(path: &std::path::Path) -> Result<Vec<(u16, u16)>, Failure> {
    #[derive(serde::Deserialize)]
    struct File {
        uids: Vec<u16>,
        weights: Vec<u16>,
    }
    let bad = |e: String| Failure::Input(format!("{}: {e}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let f: File = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if f.uids.len() != f.weights.len() {
        return Err(bad("uids and weights differ in length".into()));
    }
    Ok(f.uids.into_iter().zip(f.weights).collect())
}

const RAO: f64 = 1e9;

#[allow(clippy::too_many_arguments)]
fn build(
    args: &StatusArgs,
    endpoint: &str,
    ss58: &str,
    head: Head,
    metagraph: &Metagraph,
    hyper: &Hyperparameters,
    view: &ConsensusView,
    file_weights: Option<&[(u16, u16)]>,
    limits: &trust::WatchLimits,
) -> Status {
    let uid = metagraph.uid_of(ss58);
    let at = |v: &[u16], uid: u16| v.get(usize::from(uid)).copied();
    let permitted = |uid: u16| view.permits.get(usize::from(uid)).copied().unwrap_or(false);
    let stake = |uid: u16| view.stakes.get(usize::from(uid)).copied().unwrap_or(0) as f64 / RAO;
    let consensus_known = trust::consensus_known(&view.consensus);
    let mut validators: Vec<ValidatorRow> = metagraph
        .neurons
        .iter()
        .filter(|n| permitted(n.uid))
        .map(|n| {
            let row = view.row(n.uid);
            let p = view.chain_row_prediction(n.uid);
            let chain_trust = at(&view.validator_trust, n.uid).unwrap_or(0);
            ValidatorRow {
                uid: n.uid,
                hotkey: n.hotkey.clone(),
                stake: stake(n.uid),
                trust_u16: chain_trust,
                trust: from_u16(chain_trust),
                recomputed_u16: p.trust_u16(),
                recomputed_range_u16: trust::trust_interval(&row, &view.consensus, Some(n.uid)),
                distance: p.distance,
                last_update: n.last_update,
                has_weights: p.has_weight,
            }
        })
        .collect();
    validators.sort_by(|a, b| b.stake.total_cmp(&a.stake).then(a.uid.cmp(&b.uid)));
    let ours = uid.map(|u| view.chain_row_prediction(u));
    let last_weights_block = uid
        .and_then(|u| view.last_update.get(usize::from(u)).copied())
        .filter(|&b| b > 0);
    let next_due_block = uid.map(|_| {
        last_weights_block.map_or(head.number, |b| {
            b + args.epoch_length.max(hyper.weights_rate_limit)
        })
    });
    let commit_reveal = hyper.commit_reveal.unwrap_or(false);
    let file_prediction = file_weights.map(|w| trust::predicted_trust(w, &view.consensus, uid));
    // The watch on the --weights file when given, else on our row on chain.
    let warning = uid.and_then(|u| {
        let weights = file_weights.map_or_else(|| view.row(u), <[_]>::to_vec);
        let input = view.watch_input(u, &weights, None, commit_reveal);
        trust::verdict(&input, limits)
            .warning
            .map(|w| w.to_string())
    });
    let note = if commit_reveal {
        Some(format!(
            "commit-reveal is on: the chain's weights and trust lag by the reveal period ({} epochs of {} blocks); they are for weights committed that long ago",
            hyper.reveal_period_epochs.unwrap_or(1),
            hyper.tempo
        ))
    } else if !consensus_known {
        Some("no consensus on chain yet (no epoch with weights has run)".into())
    } else {
        None
    };
    Status {
        netuid: args.netuid,
        block: head.number,
        endpoint: endpoint.to_string(),
        hotkey: ss58.to_string(),
        uid,
        permit: uid.is_some_and(permitted),
        stake: uid.map_or(0.0, stake),
        last_weights_block,
        next_due_block,
        commit_reveal,
        reveal_period_epochs: hyper.reveal_period_epochs,
        tempo: hyper.tempo,
        consensus_known,
        trust: uid.and_then(|u| at(&view.validator_trust, u)).map(from_u16),
        predicted_trust: ours.filter(|p| p.has_weight).map(|p| p.trust),
        consensus_distance: ours.filter(|p| p.has_weight).map(|p| p.distance),
        file_predicted_trust: file_prediction.map(|p| p.trust),
        warning,
        note,
        validators,
    }
}

fn render(s: &Status) -> String {
    use std::fmt::Write as _;
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "netuid {} at block {} ({})",
        s.netuid, s.block, s.endpoint
    );
    let _ = writeln!(
        out,
        "hotkey {}  uid {}  permit {}  stake {:.4}",
        s.hotkey,
        s.uid
            .map_or_else(|| "not registered".into(), |u| u.to_string()),
        if s.permit { "yes" } else { "no" },
        s.stake
    );
    let _ = writeln!(
        out,
        "last weights block {}  next due {}  commit-reveal {}  tempo {}",
        s.last_weights_block
            .map_or_else(|| "never".into(), |b| b.to_string()),
        s.next_due_block
            .map_or_else(|| "-".into(), |b| b.to_string()),
        if s.commit_reveal { "on" } else { "off" },
        s.tempo
    );
    let _ = writeln!(
        out,
        "trust {}  our weights on chain would get {}  ({} of them above consensus)",
        opt(s.trust),
        opt(s.predicted_trust),
        s.consensus_distance
            .map_or_else(|| "-".into(), |d| format!("{:.1}%", d * 100.0))
    );
    if let Some(t) = s.file_predicted_trust {
        let _ = writeln!(out, "the --weights file would get {t:.4}");
    }
    if let Some(w) = &s.warning {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(note) = &s.note {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(
        out,
        "{:>5} {:>14} {:>8} {:>10} {:>9} {:>11}  hotkey",
        "uid", "stake", "trust", "recomputed", "distance", "last update"
    );
    for v in &s.validators {
        let _ = writeln!(
            out,
            "{:>5} {:>14.4} {:>8.4} {:>10.4} {:>9} {:>11}  {}",
            v.uid,
            v.stake,
            v.trust,
            from_u16(v.recomputed_u16),
            if v.has_weights {
                format!("{:.4}", v.distance)
            } else {
                "no weights".into()
            },
            v.last_update,
            v.hotkey
        );
    }
    out
}

#[cfg(test)]
mod tests {
    //! What `status` prints, from a subnet as the chain client reads it.

    use super::*;
    use clap::Parser;
    use gittensor_validator::metagraph::{AxonInfo, Neuron};

    const US: &str = "5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj";

    fn args(extra: &[&str]) -> StatusArgs {
        let mut argv = vec!["gittensor-validator", "status", "--ss58", US];
        argv.extend(extra);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Status(a) => a,
            _ => unreachable!("a status command line"),
        }
    }

    /// uid 0 (us) and uid 1 validate; uid 2 mines. The consensus is all on
    /// uid 2; our row is `ours`, set at block 100.
    fn subnet(ours: Vec<(u16, u16)>) -> (Metagraph, ConsensusView) {
        let neuron = |uid: u16, hotkey: &str| Neuron {
            uid,
            hotkey: hotkey.into(),
            coldkey: String::new(),
            axon: AxonInfo::default(),
            validator_permit: uid < 2,
            last_update: 100,
        };
        let metagraph = Metagraph {
            neurons: vec![
                neuron(0, US),
                neuron(1, "5HRKeWs38yMY7PbkdGkykazhE59n5LfXai35Ze6szsnpBFSL"),
                neuron(2, "5GUKP4pKtESCZ7vZ1Q1aEYDpwEoP4VkuuPrmm5YwXrWiipnh"),
            ],
        };
        let view = ConsensusView {
            block: 150,
            consensus: vec![0, 0, 65535],
            validator_trust: vec![60000, 65535, 0],
            weights: [(0, ours), (1, vec![(2, 65535)])].into(),
            stakes: vec![2_000_000_000_000, 1_000_000_000_000, 0],
            permits: vec![true, true, false],
            last_update: vec![100, 100, 0],
            block_at_registration: vec![0, 0, 0],
        };
        (metagraph, view)
    }

    fn shown(extra: &[&str], ours: Vec<(u16, u16)>, commit_reveal: bool) -> String {
        shown_with_file(extra, ours, commit_reveal, None)
    }

    /// As `shown`, with a `--weights` file of `file` (uid, u16).
    fn shown_with_file(
        extra: &[&str],
        ours: Vec<(u16, u16)>,
        commit_reveal: bool,
        file: Option<&[(u16, u16)]>,
    ) -> String {
        let (metagraph, view) = subnet(ours);
        let hyper = Hyperparameters {
            min_allowed_weights: 1,
            max_weight_limit: u16::MAX,
            weights_version_key: 1000,
            weights_rate_limit: 100,
            tempo: 360,
            commit_reveal: Some(commit_reveal),
            reveal_period_epochs: Some(2),
            commit_reveal_version: Some(4),
        };
        let a = args(extra);
        let head = Head {
            number: 150,
            hash: Default::default(),
        };
        let Ok(limits) = a.watch.limits() else {
            panic!("limits out of range");
        };
        render(&build(
            &a,
            "ws://node",
            US,
            head,
            &metagraph,
            &hyper,
            &view,
            file,
            &limits,
        ))
    }

    #[test]
    fn status_shows_our_uid_trust_and_the_validators_by_stake() {
        let text = shown(&[], vec![(2, 65535)], false);
        for line in [
            "netuid 74 at block 150 (ws://node)",
            &format!("hotkey {US}  uid 0  permit yes  stake 2000.0000"),
            "last weights block 100  next due 200  commit-reveal off  tempo 360",
            "trust 0.9155  our weights on chain would get 1.0000  (0.0% of them above consensus)",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
        assert!(
            !text.contains("warning") && !text.contains("note"),
            "{text}"
        );
        // By stake: uid 0, then uid 1; uid 2 has no permit.
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("uid "))
            .skip(1)
            .collect();
        assert!(
            rows[0].trim_start().starts_with("0 ") && rows[1].trim_start().starts_with("1 "),
            "{text}"
        );
        assert_eq!(rows.len(), 2, "{text}");
    }

    #[test]
    fn with_commit_reveal_on_status_says_the_trust_is_a_reveal_period_old() {
        let text = shown(&[], vec![(2, 65535)], true);
        assert!(text.contains("commit-reveal on"), "{text}");
        assert!(
            text.contains("note: commit-reveal is on: the chain's weights and trust lag by the reveal period (2 epochs of 360 blocks)"),
            "{text}"
        );
    }

    #[test]
    fn status_warns_under_the_trust_threshold_it_is_given() {
        // Half our weight on uid 1, whose column has no consensus: 0.5.
        let half = vec![(1, 65535), (2, 65535)];
        let text = shown(&[], half.clone(), false);
        assert!(
            text.contains("our weights on chain would get 0.5000"),
            "{text}"
        );
        assert!(
            text.contains("warning: "),
            "under the default 0.80:\n{text}"
        );
        let text = shown(&["--trust-threshold", "0.4"], half, false);
        assert!(!text.contains("warning"), "above 0.4:\n{text}");
    }

    #[test]
    fn with_a_weights_file_status_warns_on_the_files_weights_not_on_ours() {
        // Ours on chain agree with consensus; the file puts half on uid 1.
        let file = [(1, 65535), (2, 65535)];
        let text = shown_with_file(&[], vec![(2, 65535)], false, Some(&file));
        assert!(
            text.contains("our weights on chain would get 1.0000"),
            "{text}"
        );
        assert!(
            text.contains("the --weights file would get 0.5000"),
            "{text}"
        );
        assert!(
            text.contains("warning: these weights would get trust 0.50"),
            "{text}"
        );
        let text = shown_with_file(&[], vec![(1, 65535), (2, 65535)], false, Some(&[(2, 1)]));
        assert!(!text.contains("warning"), "the file agrees:\n{text}");
    }
}
