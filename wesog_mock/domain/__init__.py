"""The fake's domain: tenants, batches, operations, the queue and the clock, in plain Python.

The lowest layer of `wesog_mock`: it knows nothing of HTTP, ASGI or an event loop (import-linter
checks this in CI), so every rule of the contract can be tested here without a client.
"""
