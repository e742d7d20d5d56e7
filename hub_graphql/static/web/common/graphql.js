// The pages' GraphQL client: one POST to the hub's /graphql per operation, as any front end would send it.
// Documents come from the app's operations.js (one place, for the persisted-query manifest).

/** An operation the hub refused or could not run: `message` is the hub's own, `code` its extensions.code. */
export class GraphQLFailure extends Error {
  constructor(message, code, errors) {
    super(message);
    this.name = "GraphQLFailure";
    this.code = code || null;
    this.errors = errors || [];
  }
}

let bearerToken = null;

/** The token sent as `Authorization: Bearer …` from now on (null: anonymous). */
export function useToken(token) {
  bearerToken = token || null;
}

/**
 * Runs one operation and answers its `data`. A GraphQL error (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT…)
 * or a failed request throws a GraphQLFailure carrying the hub's message; `partial: true` answers
 * `{data, errors}` instead, for pages that show what they got beside what was refused.
 */
export async function run(document, variables = {}, { partial = false } = {}) {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  if (bearerToken) headers.authorization = `Bearer ${bearerToken}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query: document, variables }),
      credentials: "omit",
    });
  } catch (error) {
    throw new GraphQLFailure("The hub cannot be reached: check your connection and try again.", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch (error) {
    throw new GraphQLFailure(`The hub answered ${response.status} without a GraphQL result.`, "HTTP");
  }
  const errors = body.errors || [];
  if (partial) return { data: body.data || null, errors };
  if (errors.length) {
    const first = errors[0];
    throw new GraphQLFailure(first.message, first.extensions && first.extensions.code, errors);
  }
  return body.data;
}
