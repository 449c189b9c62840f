"""One module per case kind, each with `ROUTES: dict[event type, handler]` and the other
declarations `kind_route.KindRoute` reads (its docstring lists them); `streams.routing.route`
combines them. `commands` and `kind_route` are the shared vocabulary, not kinds."""
