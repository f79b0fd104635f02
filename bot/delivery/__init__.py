"""The delivery engine: workers that take pushes from the outbox and send them.

``results`` is what a channel's pusher answers, ``rates`` keeps every worker
together within each channel's limits, ``worker`` claims, renders, sends and
records, ``runner`` wires a worker from the settings. Kept free of imports
here, so the pushers in bot/channels can use ``results`` without pulling in
the worker.
"""
