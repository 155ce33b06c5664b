"""Scoring goldens: gittensor 2.0.7's own get_rewards on seeded random rounds.

    scoring_goldens.py OUT SEED...

Each seed's round (random_rounds.round_for(seed, compact=True), our input
formats) is scored by 2.0.7 as gtround.py runs it (GitHub from
examples/serve_snapshot.rs, the clock held at the round's now, a fresh
process per round) and written to OUT with its inputs: per uid the reward
(float64 bits) and the evaluation (reward_goldens.evaluation_fields).
numpy's exp is whatever this process's numpy dispatches to: run through
scripts/reference/scoring-goldens.sh, which runs it with numpy's own SIMD
exp and without, and merges the two.
"""
import json
import os
import platform
import sys
import tempfile
from importlib import metadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtref  # noqa: E402


def main():
    out, *seeds = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="gittensor-2.0.7-")
    gtref.unpack(tmp)
    import bittensor as bt
    bt.logging.set_warning()
    import logging
    logging.disable(logging.CRITICAL)  # the storage-free round logs nothing we keep
    import gtround
    import random_rounds
    from reward_goldens import evaluation_fields, f64_bits, serve_json

    ref = gtround.Reference(tmp)
    rounds = []
    for seed in map(int, seeds):
        r = random_rounds.round_for(seed, compact=True)
        d = tempfile.mkdtemp()
        for k in ("repositories", "languages"):
            with open(os.path.join(d, k + ".json"), "w") as f:
                json.dump(r[k], f)
        ref.fresh_process()
        hub, url = serve_json(r["snapshot"])
        try:
            ref.set_github(url)
            uids, rewards, evs = ref.run_round(r["miners"], os.path.join(d, "repositories.json"),
                                               os.path.join(d, "languages.json"), gtround.parse_now(r["now"]))
        finally:
            hub.stdin.close()
            hub.wait()
        rounds.append({
            "seed": seed, **r,
            "rewards": {str(u): {"reward": float(x), "bits": f64_bits(x)} for u, x in zip(uids, rewards)},
            "evaluations": {str(u): evaluation_fields(evs[u]) for u in uids},
        })
        print(f"seed {seed}: {sum(len(evs[u].pull_requests) for u in uids)} PRs", file=sys.stderr)
    # numpy 2.x dispatches float64 exp to its own AVX-512 code (target
    # X86_V4, AVX512_SKX before 2.3) when the CPU has it, else to libm.
    from numpy._core._multiarray_umath import __cpu_features__ as feats
    data = {
        "versions": {
            "python": platform.python_version(),
            **{p: metadata.version(p) for p in ("bittensor", "numpy", "levenshtein", "time-machine")},
        },
        "numpy_disabled_cpu_features": os.environ.get("NPY_DISABLE_CPU_FEATURES", ""),
        "numpy_avx512_dispatch": bool(feats.get("X86_V4") or feats.get("AVX512_SKX")),
        "rounds": rounds,
    }
    with open(out, "w") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main()
