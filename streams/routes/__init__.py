"""One module per case kind, each with `ROUTES: dict[event type, handler]` and the kinds that
hold shared facts; `streams.routing.route` combines them."""
