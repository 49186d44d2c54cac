"""The desk's language around a whole route handler, for the words it writes in Python.

:func:`~distributor.web.templating.render` speaks the desk language while a page is rendered;
the messages a handler writes before that (flash messages, form errors, "not found" details)
need the same language while the handler runs. :func:`in_desk_language` gives it to them:

    @router.post("/lists")
    @in_desk_language
    def add_list(request: Request, ...) -> Response:
        flash(request, _("List %(name)s created.") % {"name": name})

The language is chosen when the handler runs, after FastAPI resolved its dependencies, so the
signed-in user's own language (set by the user dependency) counts before ``Accept-Language``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from fastapi import Request

from distributor.i18n import use_language
from distributor.web.templating import desk_language

P = ParamSpec("P")
R = TypeVar("R")


def in_desk_language(handler: Callable[P, R]) -> Callable[P, R]:
    """Run ``handler`` (a route taking ``request``) in the desk language of its request."""

    @wraps(handler)
    def speaking(*args: P.args, **kwargs: P.kwargs) -> R:
        request = kwargs.get("request")
        if not isinstance(request, Request):
            request = next((value for value in args if isinstance(value, Request)), None)
        if request is None:
            return handler(*args, **kwargs)
        with use_language(desk_language(request), domain="desk"):
            return handler(*args, **kwargs)

    return speaking
