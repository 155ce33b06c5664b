// Checks the requests the GitHub client really sends (JSON lines from
// `cargo run --example github_requests`, on stdin) against GitHub's
// published contracts:
// - every GraphQL document validates against @octokit/graphql-schema, and
//   its variables coerce to the types the document declares, none missing,
//   none extra;
// - every REST request is a documented GET operation of @octokit/openapi
//   (api.github.com), with only documented query parameters, and carries
//   the X-GitHub-Api-Version the client is written for.
// Exits 1 naming every deviation.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { validate, schema } from "@octokit/graphql-schema";
import { buildClientSchema, parse } from "graphql";
import { getVariableValues } from "graphql/execution/values.js";

const require = createRequire(import.meta.url);
const openapi = require("@octokit/openapi/generated/api.github.com.json");
const API_VERSION = "2022-11-28";

const lines = readFileSync(0, "utf8").split("\n").filter((l) => l.trim());
const problems = [];
const graphqlSchema = buildClientSchema(schema.json);

function deref(p) {
  if (!p.$ref) return p;
  const parts = p.$ref.replace(/^#\//, "").split("/");
  return parts.reduce((o, k) => o[k], openapi);
}

const routes = Object.entries(openapi.paths).map(([template, item]) => {
  const re = new RegExp(
    "^" + template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+") + "$",
  );
  return { template, item, re };
});

let graphql = 0;
let rest = 0;
for (const line of lines) {
  const r = JSON.parse(line);
  const url = new URL(r.path, "https://api.github.com");
  if (r.method === "POST" && url.pathname === "/graphql") {
    graphql += 1;
    const body = JSON.parse(r.body);
    const errors = validate(body.query);
    for (const e of errors) problems.push(`graphql: ${e.message}`);
    if (errors.length === 0) {
      const op = parse(body.query).definitions.find((d) => d.kind === "OperationDefinition");
      const defs = op.variableDefinitions ?? [];
      const vars = body.variables ?? {};
      const coerced = getVariableValues(graphqlSchema, defs, vars);
      for (const e of coerced.errors ?? []) problems.push(`graphql variables: ${e.message}`);
      const declared = new Set(defs.map((d) => d.variable.name.value));
      for (const k of Object.keys(vars)) {
        if (!declared.has(k)) problems.push(`graphql variables: $${k} is sent but not declared`);
      }
    }
    continue;
  }
  rest += 1;
  const route = routes.find((x) => x.re.test(url.pathname));
  const op = route?.item[r.method.toLowerCase()];
  if (!op) {
    problems.push(`rest: ${r.method} ${url.pathname} is not a documented operation`);
    continue;
  }
  const params = (op.parameters ?? []).map(deref);
  const query = new Set(params.filter((p) => p.in === "query").map((p) => p.name));
  for (const [name, value] of url.searchParams) {
    if (!query.has(name)) {
      problems.push(`rest: ${route.template} has no query parameter ${name}`);
      continue;
    }
    const p = params.find((x) => x.in === "query" && x.name === name);
    const s = p.schema ?? {};
    if (s.type === "integer") {
      const n = Number(value);
      if (!Number.isInteger(n) || (s.maximum !== undefined && n > s.maximum) || (s.minimum !== undefined && n < s.minimum))
        problems.push(`rest: ${route.template} ${name}=${value} is out of its schema`);
    }
  }
  if (r.api_version !== API_VERSION) {
    problems.push(`rest: ${r.method} ${url.pathname} sends X-GitHub-Api-Version ${r.api_version}, not ${API_VERSION}`);
  }
  console.log(`ok  ${r.method} ${route.template} (${op.operationId})${url.search}`);
}
if (graphql === 0 || rest === 0) problems.push(`expected GraphQL and REST requests, got ${graphql} and ${rest}`);
for (const p of problems) console.error(`FAIL ${p}`);
if (problems.length) process.exit(1);
console.log(`ok  ${graphql} GraphQL requests valid against @octokit/graphql-schema; ${rest} REST requests documented in @octokit/openapi`);
