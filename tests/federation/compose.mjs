// Composes a supergraph with @theguild/federation-composition.
// Usage: node compose.mjs SERVICES.json SUPERGRAPH.graphql
// SERVICES.json holds [{ "name": ..., "url": ..., "sdl": ... }]; prints {"errors": [...], "hints": [...]} on stdout
// and writes the supergraph SDL only when composition gave no errors (exit code 1 otherwise).
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';

const [servicesFile, supergraphFile] = process.argv.slice(2);
if (!servicesFile || !supergraphFile) {
  console.error('usage: node compose.mjs SERVICES.json SUPERGRAPH.graphql');
  process.exit(2);
}

const services = JSON.parse(readFileSync(servicesFile, 'utf8')).map((s) => ({
  name: s.name,
  url: s.url,
  typeDefs: parse(s.sdl),
}));
const result = composeServices(services);
const errors = (result.errors ?? []).map((e) => e.message);
const hints = (result.hints ?? []).map((h) => h.message);
if (errors.length === 0) {
  writeFileSync(supergraphFile, result.supergraphSdl);
}
console.log(JSON.stringify({ errors, hints }));
process.exit(errors.length === 0 ? 0 : 1);
