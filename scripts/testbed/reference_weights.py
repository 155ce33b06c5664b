#!/usr/bin/env python3
"""The weights the reference pipeline sends for one round, computed by numpy
and bittensor 9.9.0's own weight_utils (from PyPI), not by our Rust code.

For a validator that starts from float32 zero scores over n uids and folds in
one round's rewards, or several rounds' in order (SCORING.md §11.2, gittensor
2.0.7's update_scores), then sets weights (§11.4: L1 norm, process_weights,
u16 conversion).

Usage: reference_weights.py REPORT_JSON[,REPORT_JSON...] N MIN_ALLOWED_WEIGHTS MAX_WEIGHTS_LIMIT_U16 [ALPHA]
Prints {"uids": [...], "weights": [...]} (the u16 list the extrinsic carries).
"""
import json
import sys

import numpy as np
from bittensor.utils.weight_utils import convert_weights_and_uids_for_emit, process_weights

report_path, n, min_allowed, limit_u16 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
alpha = float(sys.argv[5]) if len(sys.argv) > 5 else 0.70
scores = np.zeros(n, dtype=np.float32)
for path in report_path.split(","):
    report = json.load(open(path))
    # update_scores, as 2.0.7: rewards float64 in uid order, NaN -> 0, scattered
    # into a float32 vector, then alpha * r + (1 - alpha) * s with Python floats.
    uids = sorted(int(u) for u in report["rewards"])
    rewards = np.asarray([report["rewards"][str(u)] for u in uids], dtype=np.float64)
    if np.isnan(rewards).any():
        rewards = np.nan_to_num(rewards, nan=0)
    scattered = np.zeros_like(scores)
    scattered[np.array(uids)] = rewards
    scores = alpha * scattered + (1 - alpha) * scores

# set_weights, as 2.0.7.
norm = np.linalg.norm(scores, ord=1, axis=0, keepdims=True)
if np.any(norm == 0) or np.isnan(norm).any():
    norm = np.ones_like(norm)
raw = scores / norm
p_uids, p_weights = process_weights(
    uids=np.arange(n),
    weights=raw,
    num_neurons=n,
    min_allowed_weights=min_allowed,
    max_weight_limit=limit_u16 / 65535,
    exclude_quantile=0,
)
u, w = convert_weights_and_uids_for_emit(p_uids, p_weights)
print(json.dumps({"uids": [int(x) for x in u], "weights": [int(x) for x in w]}))
