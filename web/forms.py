"""The one pattern every action form follows: read the posted fields (CSRF checked), hand them
to the service, and either go back to the case page with what the engine did, or show the form
again with the GOV.UK error summary. The service's own errors are the messages: nothing here
decides a rule, and nothing typed is logged or quoted back in a message."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from models.errors import BrokenRules, VcsError
from models.task_repository import task_on_case
from models.victim_repository import victim_on_case
from service.actor import Actor
from service.contacts import Invalid, Problem
from service.queries import NotFound, viewable_case
from service.vcs import Vcs
from web.labels import plain
from web.pages import actor_of, page, verified_form
from web.uploads import MAX_WRITTEN_CHARS, oversized

T = TypeVar("T")
# What a form shows as its error summary: bad fields, or the service refusing the action.
FORM_ERRORS = (Invalid, ValidationError, VcsError)
ENGINE_MISSING = "The console is not connected to the engine: nothing was changed"


@dataclass(frozen=True)
class Form:
    """A form page: its template, its fields (the first takes a problem no field owns), and
    what to do about each field when it is not valid (GOV.UK style: what to enter)."""

    template: str
    fields: tuple[str, ...]
    fixes: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # the model's field: the form's
    rules_anchor: str = ""  # where rules refusing the whole action point (default: 1st field)

    def show(
        self,
        request: Request,
        values: dict[str, str],
        *,
        problems: list[Problem] | None = None,
        **context: Any,
    ) -> Response:
        return page(
            request,
            self.template,
            {"values": values, "problems": problems, "nav": "cases", **context},
            status_code=400 if problems else 200,
        )

    def problems(self, error: Exception) -> list[Problem]:
        """The service's refusal as problems on this form's fields, in the form's order."""
        if isinstance(error, Invalid):
            return error.problems
        if isinstance(error, ValidationError):
            named = dict.fromkeys(
                self.aliases.get(str(e["loc"][0]), str(e["loc"][0]))
                for e in error.errors(include_input=False)
                if e["loc"]
            )
            fields = [f for f in self.fields if f in named] or [self.fields[0]]
            return [Problem(f, self.fixes.get(f, f"Check the {_words(f)}")) for f in fields]
        if isinstance(error, BrokenRules):  # each rule broken, on its own line
            anchor = self.rules_anchor or self.fields[0]
            return [Problem(anchor, _sentence(reason)) for reason in error.reasons]
        return [Problem(self.fields[0], _sentence(str(error)))]


def _words(name: str) -> str:
    return name.replace("_", " ")


def _sentence(message: str) -> str:
    return plain(message)


def vcs_of(request: Request) -> Vcs:
    vcs: Vcs | None = request.app.state.vcs
    if vcs is None:
        raise VcsError(ENGINE_MISSING)
    return vcs


def field_text(data: FormData, name: str) -> str:
    """A posted field, stripped; missing is blank. Browsers send a textarea's line breaks as
    CRLF (HTML's form encoding), which the models' text checks refuse as a control character.
    A file field is not text: blank here (read it with web/uploads.py)."""
    value = data.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


async def posted(request: Request, form: Form) -> tuple[Actor, dict[str, str]]:
    """The signed-in actor and the form's fields as posted."""
    actor = actor_of(request)
    data = await verified_form(request)
    return actor, {f: field_text(data, f) for f in form.fields}


def parsed(form: Form, values: dict[str, str], name: str, kind: type[T]) -> T:
    """One field as the type the service takes (a date, a choice), or the field's problem."""
    try:
        return TypeAdapter(kind).validate_python(values[name] or None)
    except ValidationError:
        raise Invalid([Problem(name, form.fixes.get(name, f"Check the {_words(name)}"))]) from None


OPTIONAL_DATE = date | None  # a date field that may be left blank (`parsed_all`)


def parsed_all(form: Form, values: dict[str, str], **kinds: Any) -> dict[str, Any]:
    """Each named field as its type (`parsed`; a blank optional one is None), or every field's
    problem at once, in the form's order (GOV.UK: show all the errors, not the first)."""
    found: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in sorted(kinds, key=form.fields.index):
        try:
            found[name] = parsed(form, values, name, kinds[name])
        except Invalid as error:
            problems += error.problems
    if problems:
        raise Invalid(problems)
    return found


def viewable(request: Request, case_ref: str, victim_id: int = 0, task_id: int = 0) -> Actor:
    """Before showing a form: the actor may see the case, and the victim or task named in the
    URL is the case's (IDs are numbered across cases)."""
    actor = actor_of(request)
    state = request.app.state
    viewable_case(state.engine, actor, case_ref)
    try:
        if victim_id:
            victim_on_case(state.engine, victim_id, case_ref)
        if task_id:
            task_on_case(state.engine, task_id, case_ref)
    except VcsError as error:
        raise NotFound(str(error)) from None
    return actor


def blank_to_none(values: dict[str, str]) -> dict[str, str | None]:
    return {k: (v or None) for k, v in values.items()}


async def submit(
    request: Request,
    form: Form,
    values: dict[str, str],
    action: Callable[[], Awaitable[tuple[str, str]]],
    **context: Any,
) -> Response:
    """Run the action (which returns the case it changed and what to tell the VLO): on success
    to the case page with that message; on bad input or an out-of-order action, the form again
    with the error summary. Refusals (Refused, NotFound) go to their own pages."""
    return await submit_to(request, form, values, action, "/cases/{}", context)


async def submit_to(
    request: Request,
    form: Form,
    values: dict[str, str],
    action: Callable[[], Awaitable[tuple[str, str]]],
    to: str,
    context: dict[str, Any],
) -> Response:
    """submit(), going on success to the page `to` names (formatted with the first thing the
    action returned) rather than the case page."""
    try:
        name, message = await action()
    except FORM_ERRORS as error:
        return form.show(request, values, problems=form.problems(error), **context)
    request.session["flash"] = plain(message)
    return RedirectResponse(to.format(name), status_code=303)


@dataclass(frozen=True)
class Target:
    """What a form's address names: the case, and the victim for a step about one victim."""

    case_ref: str
    victim_id: int = 0

    @property
    def about(self) -> str:
        """How a confirmation starts: the victim it was about, if any (an ID only)."""
        return f"Victim {self.victim_id}: " if self.victim_id else ""


# A step: given the request, the signed-in actor, the form's fields and its target, ask the
# service and return what the engine said it did.
Step = Callable[[Request, Actor, dict[str, str], Target], Awaitable[str]]
Choices = Callable[[Request, Actor], dict[str, Any]]


def wording(**context: str) -> Choices:
    """What a shared form's page says (its title, text, label, button), for `action_form`."""
    return lambda _, __: context


def offering(choices: dict[str, Any]) -> Choices:
    """The fixed choices a form offers (its lists to pick from), for `action_form`."""
    return lambda _, __: choices


def action_form(
    router: APIRouter,
    path: str,
    form: Form,
    step: Step,
    choices: Choices | None = None,
    post_to: str = "",
    named: bool = False,
    **initial: str,
) -> None:
    """The GET (the form) and POST (the step) of one action form at `path` (under
    /cases/{case_ref}, with {victim_id:int} for a victim's step; the POST at `post_to` if the
    form posts elsewhere): the target checked viewable first, the confirmation the engine's
    message, naming the victim unless the message is `named` already."""

    def target_of(request: Request) -> tuple[Actor, Target]:
        params = request.path_params
        target = Target(str(params["case_ref"]), int(params.get("victim_id", 0)))
        return viewable(request, target.case_ref, victim_id=target.victim_id), target

    def context(request: Request, actor: Actor, target: Target) -> dict[str, Any]:
        extra = choices(request, actor) if choices else {}
        return {"case_ref": target.case_ref, "victim_id": target.victim_id, **extra}

    async def show(request: Request) -> Response:
        actor, target = target_of(request)
        values = dict.fromkeys(form.fields, "") | initial
        return form.show(request, values, **context(request, actor, target))

    async def act(request: Request) -> Response:
        actor, target = target_of(request)
        if "file" in form.fields:  # a body too big is refused before it is read (uploads.py)
            too_big = await oversized(request, "file", MAX_WRITTEN_CHARS)
            if too_big:
                values = dict.fromkeys(form.fields, "")
                return form.show(
                    request, values, problems=too_big, **context(request, actor, target)
                )
        actor, values = await posted(request, form)

        async def action() -> tuple[str, str]:
            message = await step(request, actor, values, target)
            return target.case_ref, message if named else target.about + message

        return await submit(request, form, values, action, **context(request, actor, target))

    case = "/cases/{case_ref}"
    router.add_api_route(case + path, show, methods=["GET"], response_class=HTMLResponse)
    posting = case + (post_to or path)
    router.add_api_route(posting, act, methods=["POST"], response_class=HTMLResponse)
