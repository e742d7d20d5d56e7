// Starts GraphiQL on the hub's page (hub_graphql/graphiql.py). A file of its own, not an inline
// script, so the page runs under a Content-Security-Policy of script-src 'self'. React, ReactDOM,
// GraphiQL and GraphiQLPluginExplorer are the globals of the UMD bundles loaded before it.
(function () {
  "use strict";

  const container = document.getElementById("graphiql");
  const endpoint = new URL(container.dataset.endpoint, window.location.href).toString();
  const parameters = new URLSearchParams(window.location.search);

  function start(examples) {
    const props = {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      // The first tab of a first visit opens with the example operations; later visits keep the
      // tabs GraphiQL stored. ?query=… (a shared link) opens that operation instead.
      defaultQuery: examples,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    };
    if (parameters.has("query")) props.query = parameters.get("query");
    if (parameters.has("variables")) props.variables = parameters.get("variables");
    ReactDOM.createRoot(container).render(React.createElement(GraphiQL, props));
  }

  fetch(container.dataset.examples)
    .then((response) => (response.ok ? response.text() : ""))
    .catch(() => "")
    .then(start);
})();
