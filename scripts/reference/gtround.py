"""One scoring round of gittensor 2.0.7, run by its own code.

Everything that decides a reward or a stored row is the reference's:
`gittensor.validator.evaluation.reward.get_rewards` (query -> reward() per
uid -> duplicates -> cross-miner multipliers -> store -> normalise ->
dynamic emissions -> store), `gittensor.utils.uids.get_all_uids`, the
loaders of `gittensor/validator/utils/load_weights.py`, and the
`bulk_store_evaluation` / `store_evaluation` methods of
`neurons/validator.py`'s `Validator` (cut out of the file with `ast`, since
the module imports wandb, and exec'd verbatim). Only the outside world is
replaced:

* GitHub: `BASE_GITHUB_API_URL` points at our GitHub-shaped server
  (`cargo run --example serve_snapshot`) serving the round's snapshot, so
  2.0.7's `requests` calls go over HTTP to the same answers our
  `score --replay` reads;
* the dendrite: `self.dendrite(...)` answers each uid with a `GitPatSynapse`
  built from our miners file (`github_access_token`, and `axon.hotkey` as a
  real dendrite fills it in). An entry without `hotkey` is a miner that did
  not respond: the dendrite answers nothing, so `query_miner` returns None
  (our miners-file convention, README "File formats");
* the metagraph: `n` is the number of entries of the miners file (uids
  0..n-1), its axons are the uids;
* the clock: held at the round's `now` with time-machine (tick=False);
  `time.sleep` in github_api_tools (the waits between retries of a failed
  /user or GraphQL call) returns at once, which changes no result since the
  clock is held;
* the weight tables: our repositories/languages files are written over the
  unpacked tree's `gittensor/validator/weights/*.json`, which 2.0.7's
  loaders then read as forward() does.
"""
import ast
import asyncio
import json
import os
import shutil
import types
from datetime import datetime, timezone

import time_machine


def load_validator_storage_methods(gt_root):
    """bulk_store_evaluation and store_evaluation of neurons/validator.py, verbatim."""
    import bittensor as bt
    from gittensor.classes import MinerEvaluation

    path = os.path.join(gt_root, "neurons", "validator.py")
    src = open(path).read()
    tree = ast.parse(src)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Validator")
    wanted = {"bulk_store_evaluation", "store_evaluation"}
    fns = [n for n in cls.body if isinstance(n, ast.AsyncFunctionDef) and n.name in wanted]
    assert {f.name for f in fns} == wanted, "neurons/validator.py changed shape"
    ns = {"bt": bt, "Dict": dict, "MinerEvaluation": MinerEvaluation}
    exec(compile(ast.Module(body=fns, type_ignores=[]), path, "exec"), ns)
    return {k: ns[k] for k in wanted}


class Reference:
    """The unpacked 2.0.7 tree, imported once per process."""

    def __init__(self, gt_root):
        self.root = gt_root
        # neurons/validator.py's import order (another order is circular).
        import gittensor.classes  # noqa: F401
        import gittensor.validator  # noqa: F401
        import gittensor.validator.utils.storage  # noqa: F401
        import gittensor.constants as constants

        self.constants = constants
        import gittensor.utils.github_api_tools as gat

        self.gat = gat
        # Retry waits return at once (the clock is held anyway).
        gat.time = types.SimpleNamespace(sleep=lambda s: None)
        from gittensor.classes import GitPatSynapse
        from gittensor.utils.uids import get_all_uids
        from gittensor.validator.evaluation import reward as reward_mod
        from gittensor.validator.utils import load_weights

        self.GitPatSynapse = GitPatSynapse
        self.get_all_uids = get_all_uids
        self.reward_mod = reward_mod
        self.load_weights = load_weights
        self.storage_methods = load_validator_storage_methods(gt_root)

    def set_github(self, url):
        # github_api_tools copied the constant at import: set both.
        self.constants.BASE_GITHUB_API_URL = url
        self.gat.BASE_GITHUB_API_URL = url

    def fresh_process(self):
        """Forgets what a validator process keeps between rounds (the /user cache)."""
        self.gat._GITHUB_USER_CACHE.clear()

    def run_round(self, miners, repositories_path, languages_path, now, db_storage=None, on_store=None):
        """Runs get_rewards at `now`. Returns (uids, rewards array, evaluations dict).

        on_store(stage, miner_evaluations) is called at each of the two
        bulk_store_evaluation calls (stage 1: after the cross-miner
        multipliers, 2: after normalisation and dynamic emissions), before
        the evaluations are stored.
        """
        weights_dir = os.path.join(self.root, "gittensor", "validator", "weights")
        shutil.copyfile(repositories_path, os.path.join(weights_dir, "master_repositories.json"))
        shutil.copyfile(languages_path, os.path.join(weights_dir, "programming_languages.json"))

        by_uid = {m["uid"]: m for m in miners}
        assert sorted(by_uid) == list(range(len(miners))), "the miners file must hold uids 0..n-1"
        GitPatSynapse = self.GitPatSynapse

        async def dendrite(axons, synapse, deserialize):
            (uid,) = axons
            m = by_uid[uid]
            if not m.get("hotkey"):
                return []
            syn = GitPatSynapse(github_access_token=m.get("github_access_token"))
            syn.axon.hotkey = m["hotkey"]
            return [syn]

        harness = types.SimpleNamespace()
        harness.dendrite = dendrite
        harness.metagraph = types.SimpleNamespace(n=types.SimpleNamespace(item=lambda: len(miners)),
                                                  axons=list(range(len(miners))))
        harness.db_storage = db_storage
        store = self.storage_methods["store_evaluation"]
        bulk = self.storage_methods["bulk_store_evaluation"]
        stage = [0]

        async def store_evaluation(uid, ev):
            return await store(harness, uid, ev)

        captured = {}

        async def bulk_store_evaluation(evs):
            stage[0] += 1
            captured["evaluations"] = evs
            if on_store is not None:
                on_store(stage[0], evs)
            return await bulk(harness, evs)

        harness.store_evaluation = store_evaluation
        harness.bulk_store_evaluation = bulk_store_evaluation

        with time_machine.travel(now, tick=False):
            assert datetime.now(timezone.utc) == now
            uids = self.get_all_uids(harness)
            master_repositories = self.load_weights.load_master_repo_weights()
            programming_languages = self.load_weights.load_programming_language_weights()
            rewards = asyncio.run(
                self.reward_mod.get_rewards(harness, uids, master_repositories, programming_languages))
        assert stage[0] == 2, "get_rewards stores twice a round"
        return list(uids), rewards, captured["evaluations"]


def parse_now(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def read_json(path):
    with open(path) as f:
        return json.load(f)
