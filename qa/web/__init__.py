"""The HTTP layer: routes declared with the contract's models, the guards and limits every
request meets, one error translation, the OpenAPI document, and the waitress server.

The answering library (``qa.service`` and the read path) knows nothing of HTTP; this
package only validates, admits, calls ``QAService`` and serialises.
"""

from __future__ import annotations

from flask import Flask

from qa.web import ask, chat, corpus, errors, guard, health, openapi, pages

ROUTES = (pages.routes, ask.routes, corpus.routes, chat.routes, health.routes, openapi.routes)


def register(app: Flask) -> None:
    """Install the hooks, the error handlers and every route on ``app``."""
    guard.install(app)
    errors.install(app)
    for routes in ROUTES:
        app.register_blueprint(routes.blueprint)
    app.extensions["operations"] = [op for routes in ROUTES for op in routes.operations]
