"""Reward goldens: gittensor 2.0.7's own get_rewards on the bundled sample.

    reward_goldens.py SAMPLE_DIR NOW OUT

Reads SAMPLE_DIR/{snapshot,miners,repositories,languages}.json (our
formats), runs one round of 2.0.7 at NOW (see gtround.py for what is real
and what is replaced) and writes OUT: per uid the final reward (as float64
bits and as the shortest decimal that round-trips) and the evaluation's
fields worth checking. Run through scripts/reference/reward-goldens.sh.
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtref  # noqa: E402


def f64_bits(x):
    import struct
    return struct.pack(">d", float(x)).hex()


def serve(snapshot_path):
    """Starts our GitHub-shaped server on the snapshot; (process, url)."""
    exe = os.environ["SERVE_SNAPSHOT"]
    p = subprocess.Popen([exe, snapshot_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = p.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), f"serve_snapshot said {url!r}"
    return p, url


def serve_json(snapshot):
    """serve() on a snapshot held in memory."""
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(snapshot, f)
    return serve(path)


def evaluation_fields(ev):
    prs = []
    for pr in ev.pull_requests:
        prs.append({
            "repository_full_name": pr.repository_full_name,
            "number": pr.number,
            "file_count": len(pr.file_changes or []),
            "base_score": pr.base_score,
            "earned_score": pr.earned_score,
            "earned_score_bits": f64_bits(pr.earned_score),
            "repo_weight_multiplier": pr.repo_weight_multiplier,
            "issue_multiplier": pr.issue_multiplier,
            "open_pr_spam_multiplier": pr.open_pr_spam_multiplier,
            "repository_uniqueness_multiplier": pr.repository_uniqueness_multiplier,
            "time_decay_multiplier": pr.time_decay_multiplier,
            "gittensor_tag_multiplier": pr.gittensor_tag_multiplier,
            "merge_success_multiplier": pr.merge_success_multiplier,
            "total_lines_scored": pr.total_lines_scored,
        })
    return {
        "hotkey": ev.hotkey,
        "github_id": ev.github_id,
        "failed_reason": ev.failed_reason,
        "base_total_score": ev.base_total_score,
        "total_score": ev.total_score,
        "total_score_bits": f64_bits(ev.total_score),
        "total_lines_changed": ev.total_lines_changed,
        "total_open_prs": ev.total_open_prs,
        "total_closed_prs": ev.total_closed_prs,
        "total_merged_prs": ev.total_merged_prs,
        "total_prs": ev.total_prs,
        "unique_repos_count": ev.unique_repos_count,
        "pull_requests": prs,
    }


def main():
    sample, now_text, out = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="gittensor-2.0.7-")
    gtref.unpack(tmp)
    import bittensor as bt
    bt.logging.set_warning()
    import gtround

    ref = gtround.Reference(tmp)
    hub, url = serve(os.path.join(sample, "snapshot.json"))
    try:
        ref.set_github(url)
        miners = gtround.read_json(os.path.join(sample, "miners.json"))
        uids, rewards, evals = ref.run_round(
            miners, os.path.join(sample, "repositories.json"), os.path.join(sample, "languages.json"),
            gtround.parse_now(now_text))
    finally:
        hub.stdin.close()
        hub.wait()
    assert str(rewards.dtype) == "float64"
    data = {
        "origin": f"gittensor {gtref.COMMIT} (2.0.7) gittensor/validator/evaluation/reward.py get_rewards, run by "
                  "scripts/reference/reward-goldens.sh on the files below; GitHub answered by "
                  "examples/serve_snapshot.rs from the snapshot",
        "versions": {
            "python": platform.python_version(),
            **{p: metadata.version(p) for p in ("bittensor", "numpy", "levenshtein", "time-machine")},
        },
        "inputs": {k: f"{sample}/{k}.json" for k in ("snapshot", "miners", "repositories", "languages")},
        "now": now_text,
        "uids": uids,
        "rewards": {
            str(uid): {"reward": float(r), "bits": f64_bits(r)} for uid, r in zip(uids, rewards)
        },
        "evaluations": {str(uid): evaluation_fields(evals[uid]) for uid in uids},
    }
    with open(out, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
