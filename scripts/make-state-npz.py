#!/usr/bin/env python3
"""Writes tests/data/state.npz (and a float64 variant) as gittensor 2.0.7's
save_state writes its state (neurons/base/validator.py):
    np.savez(path, step=self.step, scores=self.scores, hotkeys=self.hotkeys)
with step an int, scores float32 (float64 after a metagraph growth) and
hotkeys a list of ss58 strings. Run with the SDK venv's python (numpy 2.x):
    $(scripts/lib/sdk-venv.sh) scripts/make-state-npz.py tests/data
"""
import sys

import numpy as np

out = sys.argv[1]
hotkeys = [
    "5FNWemJduAtUaS9ATYGEBMdA8UT8dUCVmuqk2do8LjRGy78t",
    "5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj",
    "5HRKeWs38yMY7PbkdGkykazhE59n5LfXai35Ze6szsnpBFSL",
    "5GUKP4pKtESCZ7vZ1Q1aEYDpwEoP4VkuuPrmm5YwXrWiipnh",
]
scores = np.array([0.0, 0.6640196, 4.211613e-05, 0.1], dtype=np.float32)
np.savez(f"{out}/state.npz", step=1234, scores=scores, hotkeys=hotkeys)
np.savez(f"{out}/state-float64.npz", step=7, scores=scores.astype(np.float64), hotkeys=hotkeys)
print(np.__version__)
