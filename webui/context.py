"""What every handler of the web app is given: the ``AppContext`` (the assistant, the text
catalogue, the user store, the question limiter, the Blocks) -- and how a module-level handler
``fn(ctx, *inputs)`` becomes a Gradio event function (``bind``).

Identity comes from the login session (``gr.Request.username``) and is looked up in the
``UserStore`` on every call, so a role or group change takes effect at once; every admin
handler checks the role itself (the hidden tab is only cosmetic).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.service import Viewer
from assistant.users import User

if TYPE_CHECKING:
    from assistant.limits import QuestionLimiter
    from assistant.users import UserStore

log = logging.getLogger("policyqa.web")


@dataclass(frozen=True)
class AppContext:
    assistant: Any  # assistant.service.Assistant, or a test's fake with the same methods
    t: Mapping[str, str]  # the text catalogue (webui.i18n.strings)
    users: UserStore | None  # None: no login, everyone is a local admin (--no-auth)
    limiter: QuestionLimiter
    blocks: gr.Blocks | None = None  # the app, for its queue (questions in flight)
    ui: Callable[[str], Any] | None = None  # component texts (webui.i18n.browser_texts)

    def label(self, key: str) -> Any:
        """A component text: translated by the browser when the app has ``ui``, else ``t``'s."""
        return self.ui(key) if self.ui is not None else self.t[key]

    def person(self, request: gr.Request | None) -> User:
        """The logged-in user; refused when not logged in or no longer in the store."""
        if self.users is None:
            return User("local", "admin")
        name = getattr(request, "username", None) if request is not None else None
        user = self.users.get(name) if name else None
        if user is None:
            raise refusal(self.t["not_logged_in"], name)
        return user

    def admin(self, request: gr.Request | None) -> User:
        """The logged-in user when an admin; refused otherwise."""
        who = self.person(request)
        if not who.is_admin:
            raise refusal(self.t["forbidden"], who.name)
        return who

    def viewer(self, request: gr.Request | None) -> tuple[User, Viewer]:
        who = self.person(request)
        return who, Viewer.of(who)


def refusal(message: str, user: str | None = None) -> gr.Error:
    """An expected refusal (not logged in, forbidden, over a limit...): one log line, no
    traceback, the message shown to the user."""
    log.info("refused %s: %s", user or "-", message)
    return gr.Error(message, print_exception=False)


def bind(
    fn: Callable[..., Any], ctx: AppContext, outputs: Mapping[str, Any] | None = None
) -> Callable[..., Any]:
    """``fn(ctx, *inputs)`` as a Gradio event function ``f(*inputs)`` (same name, docstring,
    special parameters such as ``gr.Request``). With ``outputs`` (name -> component), ``fn``
    returns or yields dicts keyed by name, handed to Gradio keyed by component."""

    def keyed(value: Any) -> Any:
        if outputs is None or not isinstance(value, dict):
            return value
        return {outputs[name]: v for name, v in value.items()}

    if inspect.isgeneratorfunction(fn):

        def bound(*args: Any, **kwargs: Any) -> Any:
            for value in fn(ctx, *args, **kwargs):
                yield keyed(value)
    else:

        def bound(*args: Any, **kwargs: Any) -> Any:
            return keyed(fn(ctx, *args, **kwargs))

    functools.update_wrapper(bound, fn)
    signature = inspect.signature(fn)
    first, *rest = signature.parameters.values()
    bound.__signature__ = signature.replace(parameters=rest)  # type: ignore[attr-defined]
    bound.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != first.name}
    return bound
