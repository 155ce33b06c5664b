#!/usr/bin/env bash
# The GitHub client's requests against GitHub's published contracts: the
# GraphQL document and variables it really sends validate against
# @octokit/graphql-schema, and each REST path and query parameter is a
# documented operation of @octokit/openapi (api.github.com). A typo in the
# query fails here, not on mainnet.
#
# The requests come from `cargo run --example github_requests` (the real
# client against the local GitHub-shaped server). The npm packages, pinned,
# are installed on first use under ~/.cache/gittensor-schema.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gittensor-schema
graphql_schema=15.26.1
openapi=23.0.2
mkdir -p "$cache"
stamp="$cache/.installed-$graphql_schema-$openapi"
if [ ! -f "$stamp" ]; then
  echo "installing @octokit/graphql-schema@$graphql_schema and @octokit/openapi@$openapi into $cache"
  [ -f "$cache/package.json" ] || echo '{"private": true}' >"$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --silent \
    "@octokit/graphql-schema@$graphql_schema" "@octokit/openapi@$openapi")
  touch "$stamp"
fi
# The checker runs from the cache so node resolves the packages there.
cp "$root/scripts/schema/check.mjs" "$cache/check.mjs"
cargo run --quiet --locked --example github_requests | node "$cache/check.mjs"
