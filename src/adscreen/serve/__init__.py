"""Serving: ``create_app(settings)``, the HTTP routes and their schemas, the web form, the scoring processes,
limits, and switching to a newly promoted model while running."""
