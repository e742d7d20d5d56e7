// Hive Gateway's configuration for the tests (read from this folder when the gateway starts here):
// the caller's bearer token goes on to every subgraph, so the hub decides what the caller may see.
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization'),
    }),
  },
});
