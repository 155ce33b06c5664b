#!/usr/bin/env python3
"""The reference SDK (bittensor 9.9.0, bittensor-wallet 4.0.0) as the
interop scripts need it, kept offline and on 127.0.0.1.

Two patches keep the SDK off the network:
  * bittensor.utils.networking.get_external_ip is replaced by a constant
    (the real one asks public services for the machine's address);
  * each axon's uvicorn server binds 127.0.0.1 (Axon hard-codes 0.0.0.0).
Everything else is the SDK as released: the axon's default_verify checks
signatures, nonces and the body hash.

Commands:
  wallets DIR NAME...              make wallets (plain hotkeys), print {name: ss58}
  sign KEYFILE MESSAGE             the SDK's signature of MESSAGE, 0x hex
  verify SS58 MESSAGE SIGNATURE    exit 0 when the SDK accepts it, else 1
  axons CONFIG READY_FILE          serve real axons until SIGTERM (see below)
  dendrite PORT AXON_SS58 WALLETS NAME
                                   one query by the SDK's own dendrite, as JSON

axons CONFIG is JSON: {"wallets": DIR, "axons": [{"port", "wallet", "behaviour",
"pat", "sleep_s"}]}; behaviour is ok (answers pat), blacklist, error (forward
raises) or slow (sleeps sleep_s, then answers pat). READY_FILE gets one JSON
line once every port accepts connections.
"""
import asyncio
import json
import os
import signal
import socket
import sys
import threading
import time
import typing
from typing import Optional

import bittensor as bt
import bittensor.utils.networking as networking
from bittensor_wallet import Keypair, Wallet

# Any address but the axons' own: the SDK's dendrite rewrites a target equal
# to its external ip into 0.0.0.0.
networking.get_external_ip = lambda: "127.0.0.2"


class GitPatSynapse(bt.Synapse):
    """As entrius/gittensor@ee451195 gittensor/classes.py."""

    github_access_token: Optional[str] = None


def wallets(directory, names):
    out = {}
    for name in names:
        w = Wallet(name=name, hotkey="default", path=directory)
        w.create_new_coldkey(use_password=False, overwrite=True, suppress=True)
        w.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
        out[name] = w.hotkey.ss58_address
    print(json.dumps(out))


def keypair_of(keyfile):
    with open(keyfile) as f:
        data = json.load(f)
    return Keypair.create_from_seed(data["secretSeed"])


def sign(keyfile, message):
    print("0x" + keypair_of(keyfile).sign(message).hex())


def verify(ss58, message, signature):
    ok = Keypair(ss58_address=ss58).verify(message, signature)
    sys.exit(0 if ok else 1)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def make_fns(cfg):
    behaviour = cfg["behaviour"]
    pat = cfg.get("pat")
    sleep_s = float(cfg.get("sleep_s", 0))

    async def forward(synapse: GitPatSynapse) -> GitPatSynapse:
        if behaviour == "slow":
            await asyncio.sleep(sleep_s)
        if behaviour == "error":
            raise RuntimeError("forward failed on purpose")
        synapse.github_access_token = pat
        return synapse

    async def blacklist(synapse: GitPatSynapse) -> typing.Tuple[bool, str]:
        if behaviour == "blacklist":
            return True, "Unrecognized hotkey"
        return False, "Hotkey recognized!"

    return forward, blacklist


def axons(config_file, ready_file):
    conf = json.load(open(config_file))
    running, info = [], []
    for c in conf["axons"]:
        w = Wallet(name=c["wallet"], hotkey="default", path=conf["wallets"])
        ax = bt.Axon(wallet=w, port=int(c["port"]), ip="127.0.0.1", external_ip="127.0.0.1")
        ax.fast_config.host = "127.0.0.1"
        forward, blacklist = make_fns(c)
        ax.attach(forward_fn=forward, blacklist_fn=blacklist)
        ax.start()
        running.append(ax)
        info.append({"port": ax.port, "hotkey": w.hotkey.ss58_address, "behaviour": c["behaviour"]})
    deadline = time.time() + 60
    while not all(port_open(i["port"]) for i in info):
        if time.time() > deadline:
            sys.exit("axons did not come up within 60 s")
        time.sleep(0.05)
    with open(ready_file, "w") as f:
        f.write(json.dumps({"ready": True, "axons": info}) + "\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.2)
    for ax in running:
        ax.stop()


def dendrite(port, axon_ss58, wallet_dir, name):
    w = Wallet(name=name, hotkey="default", path=wallet_dir)
    d = bt.Dendrite(wallet=w)
    axon = bt.AxonInfo(version=0, ip="127.0.0.1", port=int(port), ip_type=4,
                       hotkey=axon_ss58, coldkey=axon_ss58)
    r = asyncio.run(d.forward(axons=[axon], synapse=GitPatSynapse(), deserialize=False))[0]
    print(json.dumps({"status_code": r.dendrite.status_code,
                      "status_message": r.dendrite.status_message,
                      "token": r.github_access_token}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"wallets": lambda: wallets(args[0], args[1:]),
     "sign": lambda: sign(*args),
     "verify": lambda: verify(*args),
     "axons": lambda: axons(*args),
     "dendrite": lambda: dendrite(*args)}[cmd]()
