#!/usr/bin/env bash
# Makes (once) and prints the python of a venv with the reference SDK:
# bittensor 9.9.0 as gittensor 2.0.7 pins it. async-substrate-interface is
# pinned because a newer one breaks `import bittensor` 9.9.0.
# `sdk-venv.sh NAME PIN...` makes a venv of its own, NAME, with more pins
# on top of the SDK's (scripts/lib/reference-venv.sh).
# The venv is cached under $GV_CACHE (default ~/.cache/gittensor-validator),
# keyed by the pins, so CI and later runs reuse it.
set -euo pipefail
PINS="bittensor==9.9.0 bittensor-wallet==4.0.0 async-substrate-interface==1.5.15 py_ecc==8.0.0"
cache="${GV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gittensor-validator}"
name=""
if [ $# -gt 0 ]; then
  name="$1-"
  shift
  PINS="$PINS $*"
fi
key=$(printf '%s' "$PINS" | sha256sum | cut -c1-12)
venv="$cache/venv-$name$key"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  echo "making the ${name:-SDK-}venv in $venv ($PINS)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check $PINS >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
