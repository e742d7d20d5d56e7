"""Quotes: live offers from distributors' services, and the request-for-quote workflow.

- `live`: `Product.liveQuotes`, fanned out through the per-request offers loader.
- `workflow`: requestQuote, refreshQuotes, respondToQuoteRequest, acceptQuote, cancelQuoteRequest.
- `reads`: effective statuses (EXPIRED is read, never stored), visibility, lists.
- `comparison`: every distributor's offer per line, cheapest first, and the best total.
"""
