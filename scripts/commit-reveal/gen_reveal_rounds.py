#!/usr/bin/env python3
"""Generate reveal_rounds.json by calling the REAL function the SDK uses:
bittensor_drand.get_encrypted_commit (bittensor-drand 1.3.0, the version pip resolves
for bittensor==9.9.0; src/drand.rs is byte-identical to 1.0.0, the release current at 9.9.0).

The reveal round depends on wall-clock time: drand.rs:230-239 reads
SystemTime::now() (libc clock_gettime(CLOCK_REALTIME)) inside the Rust extension, so
patching Python's time.time() has NO effect. To make the table deterministic we
LD_PRELOAD a tiny shim (fakeclock/libfakeclock.so, source fakeclock/fakeclock.c) that
returns $FAKE_NOW for CLOCK_REALTIME; the script re-execs itself with LD_PRELOAD set
and changes FAKE_NOW per case via os.environ (the shim calls getenv on every call).

Every row is also checked against a pure-Python transcription of drand.rs:204-243
(`ref_round`), which is what a Rust port must implement (see rs/src/lib.rs reveal_round).

Run with the SDK venv's python (scripts/lib/sdk-venv.sh), as
scripts/interop-commit-reveal.sh does:
    python gen_reveal_rounds.py OUT.json        (tests/data/reveal-rounds.json is its output)
"""
import json
import math
import os
import subprocess
import sys

import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM_SRC = os.path.join(HERE, "fakeclock.c")
SHIM = os.path.join(tempfile.gettempdir(), f"gittensor-fakeclock-{os.getuid()}.so")

GENESIS_TIME = 1692803367
DRAND_PERIOD = 3
SECURITY_BLOCK_OFFSET = 3
U64 = (1 << 64) - 1


def ensure_preload():
    if os.environ.get("_REVEAL_GEN_CHILD") == "1":
        return
    if not os.path.exists(SHIM) or os.path.getmtime(SHIM) < os.path.getmtime(SHIM_SRC):
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", SHIM, SHIM_SRC, "-ldl"], check=True)
    env = dict(os.environ, LD_PRELOAD=SHIM, _REVEAL_GEN_CHILD="1")
    env.pop("FAKE_NOW", None)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def sat_sub(a, b):
    return a - b if a > b else 0


def ref_round(tempo, current_block, netuid, period, block_time, now):
    """Transcription of bittensor-drand src/drand.rs generate_commit (lines 204-243)."""
    tempo_plus_one = min(tempo + 1, U64)                       # saturating_add(1)
    netuid_plus_one = netuid + 1                               # u16 -> u64, + 1
    current_epoch = (current_block + netuid_plus_one) // tempo_plus_one
    reveal_epoch = current_epoch + period
    first_reveal_blk = sat_sub(min(reveal_epoch * tempo_plus_one, U64), netuid_plus_one)
    target_ingest_blk = min(first_reveal_blk + SECURITY_BLOCK_OFFSET, U64)
    blocks_until_ingest = sat_sub(target_ingest_blk, current_block)
    secs_until_ingest = float(blocks_until_ingest) * float(block_time)   # f64
    target_secs = float(now) + secs_until_ingest                          # f64
    x = math.floor((target_secs - float(GENESIS_TIME)) / float(DRAND_PERIOD))
    r = max(0, x)          # Rust `f64 as u64` saturates negatives to 0
    r = max(r, 1)          # `if reveal_round < 1 { reveal_round = 1 }`
    return r, dict(current_epoch=current_epoch, reveal_epoch=reveal_epoch,
                   first_reveal_blk=first_reveal_blk, target_ingest_blk=target_ingest_blk,
                   blocks_until_ingest=blocks_until_ingest, secs_until_ingest=secs_until_ingest)


def cases():
    out = []
    periods = [1, 2, 3]
    k = 0
    # boundary cases: for each tempo/netuid take the first block of an epoch, the last
    # block of the previous epoch, and a mid-epoch block, around block ~6.0M (mainnet-ish)
    for tempo in (360, 100, 10):
        for netuid in (0, 1, 74, 255):
            tp1, np1 = tempo + 1, netuid + 1
            e = (6_000_000 + np1) // tp1 + 1
            first = e * tp1 - np1          # (first + np1) % tp1 == 0 -> first block of epoch e
            for label, blk in (("epoch_first_block", first), ("epoch_last_block", first - 1),
                               ("mid_epoch", first + tempo // 2)):
                out.append(dict(label=label, tempo=tempo, netuid=netuid, current_block=blk,
                                subnet_reveal_period_epochs=periods[k % 3], block_time=12.0))
                k += 1
    # explicit period sweep at one point
    for p in (0, 1, 2, 3, 5):
        out.append(dict(label="period_sweep", tempo=360, netuid=74, current_block=6_123_456,
                        subnet_reveal_period_epochs=p, block_time=12.0))
    # last 3 blocks of an epoch: target_ingest = first_reveal + 3 (SECURITY_BLOCK_OFFSET)
    tp1, np1 = 361, 2
    first = ((6_000_000 + np1) // tp1 + 1) * tp1 - np1
    for d in (1, 2, 3, 4):
        out.append(dict(label=f"first_block_plus_{d}_period0", tempo=360, netuid=1, current_block=first + d,
                        subnet_reveal_period_epochs=0, block_time=12.0))
    # small / degenerate
    out.append(dict(label="block0", tempo=360, netuid=1, current_block=0,
                    subnet_reveal_period_epochs=1, block_time=12.0))
    out.append(dict(label="block0_netuid255_period0_saturating", tempo=10, netuid=255, current_block=0,
                    subnet_reveal_period_epochs=0, block_time=12.0))
    out.append(dict(label="tempo0", tempo=0, netuid=1, current_block=6_000_000,
                    subnet_reveal_period_epochs=1, block_time=12.0))
    out.append(dict(label="netuid65535", tempo=360, netuid=65535, current_block=6_000_000,
                    subnet_reveal_period_epochs=1, block_time=12.0))
    # non-default block_time (fast-blocks localnet uses 0.25 s)
    out.append(dict(label="block_time_0.25", tempo=10, netuid=2, current_block=1_234,
                    subnet_reveal_period_epochs=1, block_time=0.25))
    out.append(dict(label="block_time_12_int_passed_as_float", tempo=99, netuid=3, current_block=4_321_000,
                    subnet_reveal_period_epochs=2, block_time=12.0))
    return out


# fixed "now" values (seconds since Unix epoch, fed to CLOCK_REALTIME via the shim)
# 1755000000 - GENESIS = 62196633 = 3 * 20732211, i.e. exactly on a drand round boundary;
# .999999 / 3 straddle the next boundary to exercise the floor().
NOWS = ["1755000000", "1755000002.999999", "1755000003", "1755000004.5"]


def rust_as_secs_f64(now: str) -> float:
    """Duration::as_secs_f64 = secs as f64 + nanos as f64 / 1e9 (what drand.rs:230-233 computes)."""
    sec, _, frac = now.partition(".")
    nanos = int((frac + "000000000")[:9])
    return float(int(sec)) + float(nanos) / 1e9


def main():
    ensure_preload()
    import bittensor_drand as bd

    hotkey = bytes(32)
    # sanity: the shim is honoured by the Rust extension
    os.environ["FAKE_NOW"] = "1755000000"
    _, r0 = bd.get_encrypted_commit([1], [1], 0, 360, 6_000_000, 1, 1, 12.0, hotkey)
    os.environ["FAKE_NOW"] = "1755000300"
    _, r1 = bd.get_encrypted_commit([1], [1], 0, 360, 6_000_000, 1, 1, 12.0, hotkey)
    assert r1 - r0 == 100, ("fake clock not honoured", r0, r1)

    rows = []
    for c in cases():
        for now in NOWS:
            os.environ["FAKE_NOW"] = now
            _, rr = bd.get_encrypted_commit([0, 1], [65535, 1], 1, c["tempo"], c["current_block"], c["netuid"],
                                            c["subnet_reveal_period_epochs"], c["block_time"], hotkey)
            ref, inter = ref_round(c["tempo"], c["current_block"], c["netuid"], c["subnet_reveal_period_epochs"],
                                   c["block_time"], rust_as_secs_f64(now))
            assert rr == ref, (c, now, rr, ref)
            rows.append(dict(c, now=now, reveal_round=rr, **inter))
    del os.environ["FAKE_NOW"]

    doc = {
        "generator": "scripts/commit-reveal/gen_reveal_rounds.py",
        "function": "bittensor_drand.get_encrypted_commit(uids, weights, version_key, tempo, current_block, "
                    "netuid, subnet_reveal_period_epochs, block_time, hotkey) -> (commit, reveal_round)",
        "bittensor_drand_version": __import__("importlib.metadata").metadata.version("bittensor-drand"),
        "formula": "reveal_round = max(1, floor(((now + blocks_until_ingest*block_time) - 1692803367) / 3)); "
                   "blocks_until_ingest = sat_sub(((current_block+netuid+1)//(tempo+1) + period)*(tempo+1) "
                   "- (netuid+1) + 3, current_block); all block math u64 (saturating), time math f64",
        "now_source": "Rust SystemTime::now() (CLOCK_REALTIME, f64 seconds incl. fraction), faked via LD_PRELOAD",
        "rows": rows,
    }
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {len(rows)} rows ({len(rows)//len(NOWS)} cases x {len(NOWS)} now values); all match ref_round")


if __name__ == "__main__":
    main()
