#!/usr/bin/env python3
"""Decrypts a commit-reveal commit made by our Rust code with the real
bittensor_drand extension (the version bittensor 9.9.0 resolves), and checks
the payload: hotkey, uids, values, version key.

usage: verify_commit.py <commit_hex> <test_sk_hex_be|quicknet1000> <reveal_round> <hotkey_hex> <uids_csv> <values_csv> <version_key>
exit 0 = decrypted and the payload matches; 1 = mismatch or decrypt error.

With a test key sk, the round's signature is made here by py_ecc, independently
of Rust; with "quicknet1000" it is drand quicknet's real signature of round 1000.

How: signature = sk * hash_to_G1(sha256(be_u64(round)), DST "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_")
(what drand quicknet publishes per round); commit is wrapped as bittensor_drand UserData
(SCALE Vec<u8> + u64 LE round) because decrypt_with_signature() only accepts that wrapper.
"""
import hashlib
import struct
import sys

import bittensor_drand as bd
from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import compress_G1
from py_ecc.optimized_bls12_381 import multiply

DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"


def compact(n):
    return bytes([n << 2]) if n < 64 else struct.pack("<H", (n << 2) | 1) if n < 1 << 14 else struct.pack("<I", (n << 2) | 2)


def read_compact(b, i):
    m = b[i] & 3
    if m == 0:
        return b[i] >> 2, i + 1
    if m == 1:
        return struct.unpack_from("<H", b, i)[0] >> 2, i + 2
    return struct.unpack_from("<I", b, i)[0] >> 2, i + 4


# drand quicknet's published signature of round 1000.
QUICKNET_SIG_1000 = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39"


def main(a):
    commit, rnd = bytes.fromhex(a[0]), int(a[2])
    exp = (bytes.fromhex(a[3]), [int(x) for x in a[4].split(",") if x], [int(x) for x in a[5].split(",") if x], int(a[6]))
    if a[1] == "quicknet1000":
        sig_hex = QUICKNET_SIG_1000
    else:
        sk = int(a[1], 16)
        sig = compress_G1(multiply(hash_to_G1(hashlib.sha256(struct.pack(">Q", rnd)).digest(), DST, hashlib.sha256), sk))
        sig_hex = sig.to_bytes(48, "big").hex()
    wrapped = compact(len(commit)) + commit + struct.pack("<Q", rnd)
    try:
        pt = bd.decrypt_with_signature(wrapped, sig_hex)
    except ValueError as e:
        print("decrypt failed:", e)
        return 1
    n, i = read_compact(pt, 0); hk = pt[i:i + n]; i += n
    n, i = read_compact(pt, i); uids = list(struct.unpack_from(f"<{n}H", pt, i)); i += 2 * n
    n, i = read_compact(pt, i); vals = list(struct.unpack_from(f"<{n}H", pt, i)); i += 2 * n
    vk = struct.unpack_from("<Q", pt, i)[0]; i += 8
    got = (hk, uids, vals, vk)
    if i != len(pt) or got != exp:
        print("payload mismatch:", got, "trailing" if i != len(pt) else "")
        return 1
    print(f"ok: {len(commit)} B commit decrypted; hotkey {hk.hex()} uids {uids} values {vals} version_key {vk}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
