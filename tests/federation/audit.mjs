// Runs the graphql-http GraphQL-over-HTTP audits against a server; prints one JSON object on stdout.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = await auditServer({ url, fetchFn: fetch });
const failures = [];
for (const result of results) {
  if (result.status !== 'ok') {
    let body = '';
    try {
      body = await result.response.text();
    } catch {
      body = '(body already read)';
    }
    failures.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.reason,
      httpStatus: result.response.status,
      contentType: result.response.headers.get('content-type'),
      body: body.slice(0, 500),
    });
  }
}
const ok = results.filter((r) => r.status === 'ok').length;
console.log(JSON.stringify({ total: results.length, ok, failures }));
