"""Loads gittensor 2.0.7's own code (commit ee451195) from a git directory.

The upstream tree is never copied into this repository: `git archive` of
the commit is unpacked into a temporary directory the caller owns, and that
directory goes first on sys.path, so `import gittensor...` is the reference's
code, byte for byte. GITTENSOR_GIT_DIR names the git directory (a bare mirror
or a clone's .git) holding the commit.
"""
import os
import subprocess
import sys
import tarfile
import io

COMMIT = "ee451195386d1448bc84b0ea49cd729d8f3ecd47"


def git_dir():
    d = os.environ.get("GITTENSOR_GIT_DIR")
    if not d:
        sys.exit("GITTENSOR_GIT_DIR is not set: the git directory of entrius/gittensor holding " + COMMIT)
    return d


def git_show(path):
    return subprocess.check_output(["git", "--git-dir", git_dir(), "show", f"{COMMIT}:{path}"], text=True)


def unpack(dest):
    """Unpacks the commit's gittensor/ and neurons/ into dest and puts dest on sys.path."""
    tar = subprocess.check_output(["git", "--git-dir", git_dir(), "archive", COMMIT, "gittensor", "neurons"])
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest)
    sys.path.insert(0, dest)
    return dest
