"""In-process fake of the Jira REST API (Cloud and Server/Data Center), served over real
HTTP for the real ``jira`` client (pycontribs/jira 3.10.5).

Why: mocking ``jira.JIRA`` tests our assumptions about the library, not the library. Here
the real client builds the URLs, serialises the bodies, follows ``self`` links, runs its
retry loop and raises its real ``JIRAError``, while the fake keeps issue state and records
every request so tests can assert on what would have gone over the wire. Bodies are checked
against the official spec with ``tests/openapi.py`` (``load_jira_spec``).

What the jira library sends (read from jira/client.py, resources.py, resilientsession.py;
each point is exercised in tests/test_fakes_jira.py)
-------------------------------------------------------------------------------------------
URLs are ``{server}/rest/api/{rest_api_version}/{path}`` (``Resource.JIRA_BASE_URL``).
``server`` is used as given (a trailing slash is stripped; a path is kept as the context
path). Every request carries ``Accept: application/json,*/*;q=0.9``, ``Content-Type:
application/json``, ``X-Atlassian-Token: no-check`` and ``Cache-Control: no-cache``.

* ``JIRA(server, basic_auth=(email, api_token))`` sets ``session.auth`` (HTTP Basic);
  ``token_auth=PAT`` sends ``Authorization: Bearer PAT``. With ``get_server_info=True`` (the
  default) the constructor sends ``GET /rest/api/{v}/serverInfo`` (re-sent up to 3 more
  times while the body is empty, JRA-59676), keeps ``versionNumbers`` (missing -> the
  KeyError is logged and re-raised) and ``deploymentType``. ``client._is_cloud`` is
  ``deploymentType == "Cloud"``; with ``get_server_info=False`` a Cloud client behaves as a
  Server client (``search_issues`` uses the old ``/search``, ``assign_issue`` sends
  ``{"name": ...}``, user searches send ``username=``). Nothing else is sent when the client
  is built: no ``/field`` and no ``/myself`` (``validate=True`` would ``GET
  /rest/auth/1/session``). ``GET /field`` is fetched lazily, once per client, by
  ``search_issues`` (to translate JQL field names) and by some Agile helpers.
* ``myself()`` -> ``GET /myself``; returns the dict.
* ``issue(key, fields="a,b", expand="x")`` -> ``GET /issue/{key}?fields=a,b&expand=x``
  (``properties=`` likewise). Passing an ``Issue`` returns it without a request.
* ``issue.update(fields=..., update=..., notify=True)`` -> ``PUT {issue.self}``: the ``self``
  URL of the GET response (numeric id, and the REST version the server put in it) with its
  scheme and host replaced by the configured server's (``_validate_self_self_url``). The
  body is always ``{"fields": {...}, "update": {...}}`` (``{}`` when not given);
  ``notify=False`` appends ``?notifyUsers=false``. Then it sleeps ``options["delay_reload"]``
  (0) and reloads with ``GET {issue.self}``: one edit is a PUT plus a GET. Keyword
  arguments instead of ``fields=``/``update=`` go through heuristics: a str ``assignee`` /
  ``reporter`` becomes ``{"name": ...}`` (wrong on Cloud, which wants ``{"accountId": ...}``),
  ``comment="x"`` becomes ``update.comment[{"add": {"body": "x"}}]`` and a list value is
  appended to ``update[field]`` as operations. Pass ``fields=``/``update=`` explicitly.
* ``transitions(issue)`` -> ``GET /issue/{key}/transitions`` (``transitionId=``/``expand=``
  when given); returns the raw ``transitions`` list of dicts.
* ``transition_issue(issue, transition, fields=None, comment=None)``: a transition that is
  not int-like is first looked up by name (case-insensitive) with ``GET .../transitions``;
  an unknown name raises ``JIRAError("Invalid transition name. ...")`` without a status
  code. Then ``POST .../transitions`` with ``{"transition": {"id": <int>}, "fields": {...}}``:
  the id goes out as a JSON **integer** (the spec declares a string) and ``fields`` is
  always present. ``comment=`` adds ``"update": {"comment": [{"add": {"body": comment}}]}``
  -- sent as given, so on v3 pass an ADF dict. Returns ``{}`` for the 204.
* ``add_comment(issue, body, visibility=None, is_internal=False)`` -> ``POST
  /issue/{key}/comment`` with ``{"body": body}``; ``is_internal=True`` adds ``"properties":
  [{"key": "sd.public.comment", "value": {"internal": true}}]`` (Jira Service Management's
  internal-note property); ``visibility`` is sent as given. ``body`` is annotated ``str`` but
  only ``json.dumps``-ed: on v3 it must be an ADF dict. Returns a ``Comment``.
* ``create_issues(field_list, prefetch=True)`` -> ``POST /issue/bulk`` with
  ``{"issueUpdates": [{"fields": f}, ...]}``. A str/int ``project`` first costs ``GET
  /project/{key}`` and a str ``issuetype`` ``GET /project/{id}?expand=issueTypes`` (pass
  ``{"key": ...}``/``{"name": ...}`` dicts to avoid both). Errors are matched to inputs by
  ``failedElementNumber``; a 400 (nothing created) is caught and parsed the same way, so
  failures are *returned*: a list of ``{"status": "Success" | "Error", "issue", "error",
  "input_fields"}``. ``prefetch=True`` then sends ``GET /issue/{key}`` per created issue.
* ``project_components(key)`` -> ``GET /project/{key}/components``; list of ``Component``.

What it raises
--------------
Every non-2xx answer that is not retried raises ``jira.exceptions.JIRAError`` (from
``ResilientSession.request`` -> ``raise_on_error``; there are no per-status subclasses) with
``status_code``, ``url``, ``response`` (the ``requests`` response: ``.json()``,
``.headers["Retry-After"]``) and ``text`` = the error messages joined by ", ": the values of
``errors`` when that dict is non-empty, else ``errorMessages``, else ``message`` /
``errorMessage``, else the body itself when it is not JSON (a 403 with
``X-Authentication-Denied-Reason`` uses that header). An unknown component gives
``JIRAError(status_code=400, text="Component name 'Nope' is not valid")``; ``str(exc)`` is
``"JiraError HTTP 400 url: ..."`` followed by response headers and body. Transport errors are
not wrapped: ``requests.exceptions.ConnectionError`` and ``requests.exceptions.ReadTimeout``.

429 / 503 / Retry-After (``ResilientSession.request`` and ``__recoverable``)
---------------------------------------------------------------------------
``JIRA(max_retries=N)`` (default 3) sets ``session.max_retries``; ``max_retry_delay`` (60 s)
is a ResilientSession argument the JIRA constructor does not expose
(``client._session.max_retry_delay``). A request is sent up to N+1 times. After a non-2xx
answer or a ``ConnectionError``, while attempts remain, the delay is:

* 429 or 503 with ``Retry-After``: ``2 * max(int(Retry-After), 1)`` seconds -- twice what the
  server asked, at least 2 s. A non-integer Retry-After (an HTTP date) raises ``ValueError``.
* 429 without Retry-After: ``10 * 2**attempt`` (20, 40, 80 ... s).
* ``ConnectionError`` (refused, reset, connect timeout): ``10 * 2**attempt`` -- for every
  method, POST included. ``ReadTimeout`` is not a ConnectionError: raised at once.
* 503 without Retry-After and every other status: not recoverable, JIRAError at once.

The delay is capped at ``max_retry_delay``, multiplied by ``random.uniform(0.5, 1.0)`` and
**slept in the calling thread**. When the attempts run out, the last response is raised as
``JIRAError`` (429, with its Retry-After header). To never sleep: ``max_retries=0``. Then the
attempt check fails before ``__recoverable`` runs: no sleep, no ValueError; the first 429/503
raises ``JIRAError`` at once and a ConnectionError propagates as is, so the caller (our inbox)
owns backoff and reads ``exc.response.headers["Retry-After"]``. (``_session.max_retry_delay
= 0`` keeps the retries but sends them back to back, ``time.sleep(0)``.) ``JIRA(timeout=T)``
applies to every request (connect and read); the default ``None`` waits forever.

``options={"rest_api_version": "3"}`` (Cloud) versus ``"2"`` (the default; all Server/DC has)
---------------------------------------------------------------------------------------------
Only the URL changes; the library never converts bodies. v3 takes and returns Atlassian
Document Format (ADF) for comment bodies, ``description``, ``environment`` and textarea
custom fields; v2 takes and returns wiki-markup strings. On v3 the adapter must build ADF
itself (``adf("text")`` below); a string gets 400 "Operation value must be an Atlassian
Document (see the Atlassian Document Format)". A few helpers (``assign_issue``, ...) always
use ``/rest/api/latest``. The library's Cloud detection comes from serverInfo, not from the
version.

Fidelity notes (where the fake has to choose)
---------------------------------------------
* ``deployment="cloud"``: users are identified by ``accountId`` (no name/key, as in the 2024
  Cloud captures), REST v2 and v3 are served, ``serverInfo.deploymentType`` is ``"Cloud"``,
  responses carry ``X-AAccountId``. ``deployment="server"``: users have ``name``/``key``, only
  v2 (and ``latest``) is served -- ``/rest/api/3`` answers 404 -- and deploymentType is
  ``"Server"`` (Data Center reports the same). ``latest`` is served as v2 on both.
* State is stored once and rendered per request, so v3 shows ADF and v2 shows strings for
  the same comment or description. Conversion between the two is plain text (``adf`` /
  ``adf_text``), not wiki-markup rendering.
* ``self`` links name ``site_url`` (like the real site), not the fake's address; the library
  rewrites scheme and host before following an issue's ``self``.
* Edits (PUT issue, transitions, each bulk element) are all-or-nothing: every problem is
  collected into ``{"errorMessages": [], "errors": {field: message}}`` and nothing changes.
  Wording is Jira's where a capture exists: "Field 'x' cannot be set. It is not on the
  appropriate screen, or unknown.", "Component name 'x' is not valid" (a Jira Server log),
  "Issue does not exist or you do not have permission to see it.", "You are not
  authenticated. Authentication required to perform this operation.", "'transition'
  identifier must be an integer", "The issue type selected is invalid." / "Sub-tasks must
  be created in the same project as the parent." (spec examples), "Operation value must be an
  Atlassian Document (see the Atlassian Document Format)", "Unrecognized field ... not
  marked as ignorable" (Jira's Jackson error for undeclared body keys). Messages marked
  ``# fake wording`` below are plausible, not captured; tests should match on status, the
  ``errors`` key and the quoted value rather than on those texts.
* The workflow is a table of statuses and transitions (default: To Do -> In Progress /
  Escalated -> Done -> To Do, see ``DEFAULT_WORKFLOW``); screens, conditions, validators and
  post-functions are not modelled: ``resolution`` changes only when a transition sets it.
* Internal comments: ``jsdPublic`` (Cloud only) is false when a comment on a
  ``service_desk`` project carries ``sd.public.comment`` ``{"internal": true}``; properties
  are returned with ``expand=properties`` and always by ``comments(key)``.
* Real Jira answers ``serverInfo`` anonymously; the fake requires credentials everywhere so
  a client built without them fails at construction. Basic (any user, non-empty secret)
  and Bearer are accepted; ``token=`` restricts the secret.
* Endpoints not in ``_ROUTES`` answer 501 with an ErrorCollection naming this file -- no
  real Jira sends it, so a missing fake endpoint is obvious, never a silent 404.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import json
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import quote

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

# -- Jira's wording ----------------------------------------------------------------------------

UNAUTHORIZED_BODY: dict[str, Any] = {
    "errorMessages": [
        "You are not authenticated. Authentication required to perform this operation."
    ],
    "errors": {},
}
ISSUE_NOT_FOUND_BODY: dict[str, Any] = {
    "errorMessages": ["Issue does not exist or you do not have permission to see it."],
    "errors": {},
}
RATE_LIMITED_BODY: dict[str, Any] = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
CONFLICT_BODY: dict[str, Any] = {  # fake wording, after the spec's 409 description
    "errorMessages": ["The issue could not be updated due to a conflicting update."],
    "errors": {},
}
ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
STRING_REQUIRED = "Operation value must be a string"
SUMMARY_REQUIRED = "You must specify a summary of the issue."
SUMMARY_NEWLINE = "The summary is invalid because it contains newline characters."
COMMENT_EMPTY = "Comment body can not be empty!"
TRANSITION_NOT_INTEGER = "'transition' identifier must be an integer"
SUBTASK_OTHER_PROJECT = "Sub-tasks must be created in the same project as the parent."
SUBTASK_NEEDS_PARENT = "Issue type is a sub-task but parent issue key or id not specified."
INVALID_ISSUE_TYPE = "The issue type selected is invalid."
INVALID_PROJECT = "Specify a valid project ID or key"
PARENT_NOT_FOUND = "Could not find issue by id or key."
_UPDATE_BEAN = "com.atlassian.jira.rest.v2.issue.IssueUpdateBean"
_COMMENT_BEAN = "com.atlassian.jira.issue.fields.rest.json.beans.CommentJsonBean"
_ISSUES_BEAN = "com.atlassian.jira.rest.v2.issue.IssuesUpdateBean"


def unknown_field(name: str) -> str:
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


def unrecognized(name: str, bean: str) -> str:
    return f'Unrecognized field "{name}" (Class {bean}), not marked as ignorable'


def error_body(errors: Mapping[str, str] | None = None, messages: Iterable[str] = ()) -> dict:
    """Jira's ErrorCollection: ``{"errorMessages": [...], "errors": {field: message}}``."""
    return {"errorMessages": list(messages), "errors": dict(errors or {})}


# -- Atlassian Document Format -----------------------------------------------------------------


def adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: blank lines split paragraphs, newlines are hardBreaks."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return {"type": "doc", "version": 1, "content": [_adf_paragraph(p) for p in paragraphs]}


def _adf_paragraph(text: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for index, line in enumerate(text.split("\n")):
        if index:
            content.append({"type": "hardBreak"})
        if line:
            content.append({"type": "text", "text": line})
    return {"type": "paragraph", "content": content}


def adf_text(document: Any) -> str:
    """The text of an ADF document (blocks joined by blank lines); strings pass through."""
    if document is None or isinstance(document, str):
        return document or ""
    return "\n\n".join(_inline_text(block) for block in document.get("content", []))


def _inline_text(node: Mapping[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    return "".join(_inline_text(child) for child in node.get("content", []))


def is_adf(value: Any) -> bool:
    """True for an ADF root node (``{"type": "doc", "version": 1, "content": [...]}``)."""
    return (
        isinstance(value, Mapping)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


# -- public value types and internal state -----------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (``status`` is what the fake answered)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any | None
    raw: bytes
    status: int = 0
    injected: bool = False  # True when a fail_next() fault produced the answer

    @property
    def api_version(self) -> str | None:
        """``"2"``, ``"3"`` or ``"latest"`` for ``/rest/api/{v}/...`` paths."""
        match = re.match(r"^/rest/api/([^/]+)/", self.path)
        return match.group(1) if match else None


@dataclass
class _Fault:
    status: int
    remaining: int
    headers: dict[str, str]
    body: bytes
    content_type: str
    path_contains: str | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.path_contains is None or self.path_contains in path) and (
            self.method is None or self.method == method
        )


@dataclass
class _Delay:
    seconds: float
    remaining: int
    path_contains: str | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.path_contains is None or self.path_contains in path) and (
            self.method is None or self.method == method
        )


@dataclass
class _Reply:
    status: int
    body: Any  # JSON-serialisable, bytes sent as-is, or None for no content
    headers: dict[str, str] = field(default_factory=dict)


class _Rejected(Exception):
    """An edit that Jira would answer with 400 and an ErrorCollection."""

    def __init__(self, errors: Mapping[str, str] | None = None, messages: Iterable[str] = ()):
        super().__init__(dict(errors or {}), list(messages))
        self.body = error_body(errors, messages)


@dataclass
class _User:
    display_name: str
    email: str
    account_id: str | None  # Cloud identity
    name: str | None  # Server identity (username); key mirrors it
    time_zone: str = "Etc/UTC"
    active: bool = True

    @property
    def ident(self) -> str:
        return self.account_id or self.name or ""


@dataclass
class _Status:
    id: str
    name: str
    category: str  # new | indeterminate | done | undefined


@dataclass(frozen=True)
class _Transition:
    id: str
    name: str
    sources: frozenset[str] | None  # status ids it starts from; None = global
    target: str  # status id


@dataclass
class _Project:
    id: str
    key: str
    name: str
    service_desk: bool
    components: dict[str, dict[str, Any]]  # id -> {"id", "name", "description"}


@dataclass
class _Comment:
    id: str
    author: str
    body: Any  # str (wiki markup) or ADF, as written
    created: str
    properties: list[dict[str, Any]]
    visibility: dict[str, Any] | None

    @property
    def internal(self) -> bool:
        for prop in self.properties:
            if prop.get("key") == "sd.public.comment":
                value = prop.get("value")
                flag = value.get("internal") if isinstance(value, Mapping) else value
                return flag in (True, "true")
        return False


@dataclass
class _Issue:
    id: str
    key: str
    project: str  # project key
    issuetype: str  # issue type id
    summary: str
    description: Any
    status: str  # status id
    priority: str | None  # priority id
    labels: list[str]
    components: list[str]  # component ids
    reporter: str | None
    assignee: str | None
    duedate: str | None
    custom: dict[str, Any]
    created: str
    updated: str
    status_changed: str
    environment: Any = None
    resolution: str | None = None
    resolution_date: str | None = None
    parent: str | None = None  # issue key
    subtasks: list[str] = field(default_factory=list)
    comments: list[_Comment] = field(default_factory=list)


class _Clock:
    """Deterministic Jira timestamps: every tick is one second after the previous one."""

    def __init__(self, start: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> None:
        self._now = start

    def tick(self) -> str:
        self._now += timedelta(seconds=1)
        return self._now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


# -- catalogues --------------------------------------------------------------------------------

_CATEGORIES: dict[str, tuple[int, str, str, str]] = {  # key -> id, colour, cloud, server name
    "undefined": (1, "medium-gray", "No Category", "No Category"),
    "new": (2, "blue-gray", "New", "To Do"),
    "done": (3, "green", "Done", "Done"),
    "indeterminate": (4, "yellow", "In Progress", "In Progress"),
}
_PRIORITIES: tuple[tuple[str, str], ...] = (
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
)
_ISSUE_TYPES: tuple[tuple[str, str, bool], ...] = (
    ("10001", "Task", False),
    ("10003", "Sub-task", True),
    ("10004", "Bug", False),
)
_RESOLUTIONS: tuple[tuple[str, str], ...] = (
    ("10000", "Done"),
    ("10001", "Won't Do"),
    ("10002", "Duplicate"),
    ("10003", "Cannot Reproduce"),
)
# (status name, category) and (id, name, from status names or None = global, to status name)
DEFAULT_WORKFLOW: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, Any, str], ...]] = (
    (
        ("To Do", "new"),
        ("In Progress", "indeterminate"),
        ("Escalated", "indeterminate"),
        ("Done", "done"),
    ),
    (
        ("11", "Start Progress", ("To Do",), "In Progress"),
        ("21", "Escalate", ("To Do", "In Progress"), "Escalated"),
        ("31", "Done", ("To Do", "In Progress", "Escalated"), "Done"),
        ("41", "Reopen", ("Done",), "To Do"),
    ),
)
_STATUS_IDS = {"To Do": "10000", "In Progress": "3", "Done": "10001", "Escalated": "10002"}
_SYSTEM_FIELDS: tuple[tuple[str, str, str], ...] = (  # id, name, schema type
    ("summary", "Summary", "string"),
    ("description", "Description", "string"),
    ("environment", "Environment", "string"),
    ("status", "Status", "status"),
    ("priority", "Priority", "priority"),
    ("labels", "Labels", "array"),
    ("components", "Component/s", "array"),
    ("assignee", "Assignee", "user"),
    ("reporter", "Reporter", "user"),
    ("duedate", "Due date", "date"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("parent", "Parent", "issuelink"),
    ("resolution", "Resolution", "resolution"),
    ("comment", "Comment", "comments-page"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
)
_EDITABLE = frozenset(
    {
        "summary",
        "description",
        "environment",
        "priority",
        "labels",
        "components",
        "assignee",
        "reporter",
        "duedate",
    }
)
_CREATE_ONLY = frozenset({"project", "issuetype", "parent"})
_BODY_KEYS = frozenset({"fields", "update", "historyMetadata", "properties", "transition"})
_COMMENT_KEYS = frozenset({"body", "visibility", "properties"})
_MAX_BULK = 50


# -- the server --------------------------------------------------------------------------------


class _Handler(WSGIRequestHandler):
    """One request per connection and no access log.

    HTTP/1.0 closes every connection after its response, so no idle keep-alive connection
    (and its server thread) outlives a test; werkzeug would switch a threaded server to
    HTTP/1.1 unless the handler sets the version itself.
    """

    protocol_version = "HTTP/1.0"
    timeout = 10  # seconds a connected-but-silent client may hold a server thread

    def handle(self) -> None:
        fake: FakeJira = self.server.fake  # type: ignore[attr-defined]
        fake._connection_opened()
        try:
            super().handle()
        finally:
            fake._connection_closed()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class FakeJira:
    """A stateful Jira REST API on 127.0.0.1 for the real ``jira`` client.

    Seed with ``add_project``/``add_user``/``add_issue``/``set_workflow``; read state with
    ``issue(key)``/``comments(key)``. All access from server threads goes through one lock.
    """

    def __init__(
        self,
        *,
        deployment: str = "cloud",
        token: str | None = None,
        require_auth: bool = True,
        site_url: str | None = None,
    ) -> None:
        """``deployment``: ``"cloud"`` or ``"server"``; ``token``: if set, the only accepted
        API token / password / PAT; ``site_url``: host named in ``self`` links."""
        if deployment not in ("cloud", "server"):
            raise ValueError("deployment must be 'cloud' or 'server'")
        self.deployment = deployment
        self.token = token
        self.require_auth = require_auth
        self.site_url = (site_url or _default_site(deployment)).rstrip("/")
        self.api_versions: tuple[str, ...] = ("2", "3") if self.cloud else ("2",)
        self.default_api_version = self.api_versions[-1]
        self.users: dict[str, _User] = {}
        self.projects: dict[str, _Project] = {}
        self.statuses: dict[str, _Status] = {}
        self.transitions: list[_Transition] = []
        self.custom_fields: dict[str, dict[str, Any]] = {}
        # (id, name), highest first, as GET /priority lists them; set_priorities() localizes.
        self.priorities: list[tuple[str, str]] = list(_PRIORITIES)
        self.groups: dict[str, list[str]] = {}  # user ident -> group names (GET /user?expand=groups)
        self.me_id = ""  # set by add_user(me=True) just below
        self._issues: dict[str, _Issue] = {}
        self._log: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._lock = threading.RLock()
        self._clock = _Clock()
        self._ids = itertools.count(10_010)
        self._comment_ids = itertools.count(10_100)
        self._component_ids = itertools.count(10_050)
        self._open_connections = 0
        self._connections_idle = threading.Condition(threading.Lock())
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._urls = Map(
            [Rule(path, endpoint=name, methods=[verb]) for verb, path, name in _ROUTES],
            strict_slashes=False,
        )
        self.set_workflow(*DEFAULT_WORKFLOW)
        self.me = self.add_user("Dispute Desk Bot", email="bot@example.com", me=True)

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on an OS-chosen port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeJira already started")
        self._stopping.clear()
        server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Handler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeJira:{server.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, wake held (delayed) responses and wait for open connections."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        thread.join(timeout)
        server.server_close()
        self._server = self._thread = None
        if not self._wait_connections_closed(timeout):
            warnings.warn("FakeJira.stop(): connections still open after timeout", stacklevel=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeJira is not started")
        return int(self._server.port)

    @property
    def url(self) -> str:
        """The ``server`` to give ``jira.JIRA``."""
        return f"http://127.0.0.1:{self.port}"

    def _connection_opened(self) -> None:
        with self._connections_idle:
            self._open_connections += 1

    def _connection_closed(self) -> None:
        with self._connections_idle:
            self._open_connections -= 1
            self._connections_idle.notify_all()

    def _wait_connections_closed(self, timeout: float) -> bool:
        with self._connections_idle:
            return self._connections_idle.wait_for(lambda: self._open_connections == 0, timeout)

    # -- request log ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def writes(self) -> list[RecordedRequest]:
        """Requests that could change state (everything but GET/HEAD/OPTIONS)."""
        return [r for r in self.requests if r.method not in ("GET", "HEAD", "OPTIONS")]

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- fault injection -----------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | Mapping[str, Any] | list[Any] | None = None,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` without applying them.

        429 sends ``Retry-After: 1`` unless ``headers`` is given (``headers={}`` omits it) and
        an ErrorCollection body; 401 and 404 send Jira's bodies, 409 the spec's wording;
        other statuses (500, 503, ...) an empty body. Faults queue in call order.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        payload, content_type = _fault_body(status, body)
        fault_headers = dict(
            {"Retry-After": "1"} if status == 429 and headers is None else headers or {}
        )
        verb = method.upper() if method else None
        fault = _Fault(status, times, fault_headers, payload, content_type, path_contains, verb)
        with self._lock:
            self._faults.append(fault)

    def delay_next(
        self,
        seconds: float,
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Hold the response of the next ``times`` matching requests for ``seconds``.

        The request is applied first and the answer held afterwards, so a client timeout
        leaves the "Jira did it, the client does not know" state that makes retried writes
        dangerous. ``stop()`` releases held responses.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        verb = method.upper() if method else None
        with self._lock:
            self._delays.append(_Delay(seconds, times, path_contains, verb))

    def clear_faults(self) -> None:
        """Drop faults and delays that have not fired yet."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def _take(self, queue: list[Any], method: str, path: str) -> Any:
        with self._lock:
            for item in queue:
                if item.matches(method, path):
                    item.remaining -= 1
                    if item.remaining == 0:
                        queue.remove(item)
                    return item
        return None

    # -- seeding: users, projects, workflow, fields --------------------------------------------

    def add_user(
        self,
        display_name: str = "Customer",
        *,
        email: str | None = None,
        account_id: str | None = None,
        name: str | None = None,
        time_zone: str = "Etc/UTC",
        active: bool = True,
        me: bool = False,
    ) -> dict[str, Any]:
        """Create a user (Cloud: ``accountId``; Server: ``name``/``key``) and return its JSON.

        ``me=True`` makes it the integration's own user, the one ``/myself`` returns.
        """
        with self._lock:
            number = len(self.users) + 1
            slug = re.sub(r"[^a-z0-9]+", ".", display_name.lower()).strip(".") or "user"
            user = _User(
                display_name=display_name,
                email=email or f"{slug}{number}@example.com",
                account_id=(account_id or f"712020:{number:08x}-fake-{slug}")
                if self.cloud
                else None,
                name=None if self.cloud else (name or f"{slug}{number}"),
                time_zone=time_zone,
                active=active,
            )
            self.users[user.ident] = user
            if me:
                self.me_id = user.ident
            return self._user_json(user, self.default_api_version, email=True)

    def user_id(self, user: Mapping[str, Any]) -> str:
        """The identifier this deployment uses in field values (accountId or name)."""
        return str(user["accountId"] if self.cloud else user["name"])

    def add_project(
        self,
        key: str,
        name: str | None = None,
        components: Iterable[str] = (),
        service_desk: bool = False,
    ) -> dict[str, Any]:
        """Create a project with named components; ``service_desk`` makes internal comments
        (``sd.public.comment``) hidden from customers (``jsdPublic: false``)."""
        with self._lock:
            if key in self.projects:
                raise ValueError(f"project {key} exists")
            project_id = str(10_000 + len(self.projects))
            project = _Project(project_id, key, name or key, service_desk, {})
            self.projects[key] = project
            for component in components:
                self.add_component(key, component)
            return self._project_json(project, self.default_api_version)

    def add_component(self, project: str, name: str, description: str = "") -> dict[str, Any]:
        with self._lock:
            component_id = str(next(self._component_ids))
            component = {"id": component_id, "name": name, "description": description}
            self.projects[project].components[component_id] = component
            return self._component_json(self.projects[project], component, self.default_api_version)

    def set_workflow(
        self,
        statuses: Iterable[tuple[str, str]],
        transitions: Iterable[tuple[str, str, Iterable[str] | None, str]],
    ) -> None:
        """Replace the workflow: ``(status name, category key)`` pairs and ``(transition id,
        name, from status names or None for a global transition, to status name)``."""
        with self._lock:
            self.statuses, self.transitions = {}, []
            for status_name, category in statuses:
                self.add_status(status_name, category)
            for transition_id, name, sources, target in transitions:
                self.add_transition(transition_id, name, sources, target)

    def add_status(self, name: str, category: str, id: str | None = None) -> str:
        """Add a status (category: new / indeterminate / done) and return its id."""
        if category not in _CATEGORIES:
            raise ValueError(f"unknown status category {category!r}")
        with self._lock:
            status_id = id or _STATUS_IDS.get(name) or str(10_100 + len(self.statuses))
            self.statuses[status_id] = _Status(status_id, name, category)
            return status_id

    def add_transition(
        self, id: str, name: str, sources: Iterable[str] | None, target: str
    ) -> None:
        """A transition from the named statuses (None: from any status) to ``target``."""
        with self._lock:
            source_ids = None if sources is None else frozenset(map(self._status_id, sources))
            self.transitions.append(_Transition(id, name, source_ids, self._status_id(target)))

    def set_priorities(self, priorities: Iterable[tuple[str, str]]) -> None:
        """Replace the priority scheme: ``(id, name)`` pairs, highest first (a localized
        site keeps the default ids 1..5 under its own names)."""
        with self._lock:
            self.priorities = list(priorities)

    def add_to_group(self, user: Mapping[str, Any], *groups: str) -> None:
        """Make a user (as ``add_user`` returned it) a member of ``groups``."""
        with self._lock:
            self.groups.setdefault(self.user_id(user), []).extend(groups)

    def add_custom_field(self, name: str, id: str | None = None, type: str = "string") -> str:
        """Register a custom field (edits of unknown ``customfield_*`` ids get a 400)."""
        with self._lock:
            field_id = id or f"customfield_{10_050 + len(self.custom_fields)}"
            self.custom_fields[field_id] = {"id": field_id, "name": name, "type": type}
            return field_id

    # -- seeding: issues -----------------------------------------------------------------------

    def add_issue(
        self,
        key: str | None = None,
        summary: str = "Customer reports a double charge",
        description: Any = None,
        status: str = "To Do",
        status_category: str | None = None,
        priority: str | None = "Medium",
        labels: Iterable[str] = (),
        components: Iterable[str] = (),
        reporter: str | None = None,
        assignee: str | None = None,
        project: str | None = None,
        issuetype: str = "Task",
        custom_fields: Mapping[str, Any] | None = None,
        duedate: str | None = None,
        parent: str | None = None,
    ) -> dict[str, Any]:
        """Create an issue directly (not logged) and return it as ``GET /issue`` would.

        ``status`` is a status name (a new one needs ``status_category``); ``components``
        are names (created in the project when missing); ``reporter``/``assignee`` are user
        ids (accountId or name; ``reporter`` defaults to a new customer); ``project`` comes
        from the key prefix, else the first project, else a new ``DD`` project is created;
        unknown ``customfield_*`` ids are registered.
        """
        with self._lock:
            project_key = self._seed_project(key, project)
            now = self._clock.tick()
            record = _Issue(
                id=str(next(self._ids)),
                key=key or self._next_key(project_key),
                project=project_key,
                issuetype=self._issue_type(issuetype)[0],
                summary=summary,
                description=description,
                status=self._seed_status(status, status_category),
                priority=self._priority(priority)[0] if priority else None,
                labels=list(labels),
                components=[self._seed_component(project_key, c) for c in components],
                reporter=reporter or self._default_reporter(),
                assignee=assignee,
                duedate=duedate,
                custom=self._seed_custom(custom_fields or {}),
                created=now,
                updated=now,
                status_changed=now,
                parent=parent,
            )
            self._store(record)
            return self._issue_json(record, self.default_api_version)

    def issue(self, key: str, version: str | None = None) -> dict[str, Any]:
        """Current state of an issue as ``GET /issue/{key}`` renders it; KeyError if unknown."""
        with self._lock:
            return self._issue_json(self._issues[key], version or self.default_api_version)

    def comments(self, key: str, version: str | None = None) -> list[dict[str, Any]]:
        """Comments of an issue, oldest first, with their ``properties``."""
        with self._lock:
            issue = self._issues[key]
            return [
                self._comment_json(issue, c, version or self.default_api_version, True)
                for c in issue.comments
            ]

    def add_comment(self, key: str, body: Any, author: str | None = None, **extra: Any) -> None:
        """Add a comment server-side, as an agent would (not logged)."""
        with self._lock:
            issue = self._issues[key]
            issue.comments.append(self._new_comment(body, author or self.me_id, extra))

    def _seed_project(self, key: str | None, project: str | None) -> str:
        wanted = project or (key.rsplit("-", 1)[0] if key else None)
        if wanted is None:
            wanted = next(iter(self.projects), "DD")
        if wanted not in self.projects:
            self.add_project(wanted, "Dispute Desk" if wanted == "DD" else wanted)
        return wanted

    def _seed_status(self, name: str, category: str | None) -> str:
        found = [s.id for s in self.statuses.values() if s.name == name]
        if found:
            return found[0]
        if category is None:
            raise ValueError(f"unknown status {name!r}: pass status_category to create it")
        return self.add_status(name, category)

    def _seed_component(self, project: str, name: str) -> str:
        for component in self.projects[project].components.values():
            if component["name"] == name:
                return str(component["id"])
        return str(self.add_component(project, name)["id"])

    def _seed_custom(self, values: Mapping[str, Any]) -> dict[str, Any]:
        for field_id in values:
            if field_id not in self.custom_fields:
                self.add_custom_field(f"Custom field {field_id}", id=field_id)
        return copy.deepcopy(dict(values))

    def _default_reporter(self) -> str:
        others = [u for u in self.users if u != self.me_id]
        return others[0] if others else self.user_id(self.add_user("Customer"))

    def _next_key(self, project: str) -> str:
        numbers = [int(k.rsplit("-", 1)[1]) for k in self._issues if k.startswith(project + "-")]
        return f"{project}-{max(numbers, default=0) + 1}"

    def _store(self, record: _Issue) -> None:
        self._issues[record.key] = record
        if record.parent and record.parent in self._issues:
            self._issues[record.parent].subtasks.append(record.key)

    # -- WSGI entry ----------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        raw = request.get_data(cache=True)
        method, path = request.method.upper(), request.path
        fault = self._take(self._faults, method, path)
        if fault is not None:
            headers = {"Content-Type": fault.content_type, **fault.headers}
            reply = _Reply(fault.status, fault.body, headers)
        else:
            reply = self._dispatch(request, raw)
        self._record(request, raw, reply.status, injected=fault is not None)
        delay = self._take(self._delays, method, path)
        if delay is not None:
            self._stopping.wait(delay.seconds)
        return self._to_response(reply)(environ, start_response)

    def _dispatch(self, request: Request, raw: bytes) -> _Reply:
        if self.require_auth and not self._authorized(request.headers.get("Authorization", "")):
            return self._unauthorized(request)
        adapter = self._urls.bind("127.0.0.1")
        try:
            endpoint, args = adapter.match(request.path, method=request.method)
        except (NotFound, MethodNotAllowed) as exc:
            return _unsupported(request.method, request.path, exc)
        params = dict(args)
        version = _served_version(params.pop("version"))
        if version not in self.api_versions:
            return _Reply(404, error_body(messages=[_no_such_version(self.deployment, request)]))
        body = _parse_json(raw)
        handler: Callable[..., _Reply] = getattr(self, f"_h_{endpoint}")
        with self._lock:
            try:
                return handler(version, request.args, body, **params)
            except _NotFound as missing:
                return _Reply(404, missing.body)
            except _Rejected as rejected:
                return _Reply(400, rejected.body)

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return bool(credentials) and self.token in (None, credentials)
        if scheme.lower() != "basic":
            return False
        try:
            user, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(user) and bool(secret) and self.token in (None, secret)

    def _unauthorized(self, request: Request) -> _Reply:
        headers = {"WWW-Authenticate": 'Basic realm="protected-area"'}
        if not self.cloud and request.headers.get("Authorization"):
            headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        return _Reply(401, UNAUTHORIZED_BODY, headers)

    def _record(self, request: Request, raw: bytes, status: int, injected: bool) -> None:
        entry = RecordedRequest(
            method=request.method.upper(),
            path=request.path,
            query=request.args.to_dict(flat=True),
            headers=dict(request.headers.items()),
            json=_parse_json(raw),
            raw=raw,
            status=status,
            injected=injected,
        )
        with self._lock:
            self._log.append(entry)

    def _to_response(self, reply: _Reply) -> Response:
        headers = {"Content-Type": "application/json;charset=UTF-8", **reply.headers}
        if self.cloud and reply.status != 401:
            headers.setdefault("X-AAccountId", self.me_id)  # the spec's "special headers"
        if reply.body is None:
            headers.pop("Content-Type")
            return Response(b"", status=reply.status, headers=headers)
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        return Response(data, status=reply.status, headers=headers)

    # -- endpoint handlers (called with the lock held) -----------------------------------------

    def _h_server_info(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        return _Reply(200, self._server_info())

    def _h_myself(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        user = self._user_json(self.users[self.me_id], version, email=True)
        user.update(
            locale="en_US",
            groups={"size": 1, "items": []},
            applicationRoles={"size": 1, "items": []},
            expand="groups,applicationRoles",
        )
        return _Reply(200, user)

    def _h_priorities(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        return _Reply(200, [self._priority_json(priority_id, version) for priority_id, _ in self.priorities])

    def _h_statuses(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        return _Reply(200, [self._status_json(status_id, version) for status_id in self.statuses])

    def _h_user(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        """``GET /user?accountId=`` (Cloud) or ``?username=`` (Server), ``expand=groups``."""
        ident = query.get("accountId" if self.cloud else "username", "")
        if ident not in self.users:
            return _Reply(404, error_body(messages=[f"The user with the ID '{ident}' does not exist."]))  # fake wording
        payload = self._user_json(self.users[ident], version)
        if "groups" in _csv(query.get("expand", "")):
            names = self.groups.get(ident, [])
            payload["groups"] = {"size": len(names), "items": [{"name": name, "self": self._rest(version, f"group?groupname={quote(name)}")} for name in names]}
        return _Reply(200, payload)

    def _h_fields(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        return _Reply(200, [*map(_system_field_json, _SYSTEM_FIELDS), *self._custom_field_json()])

    def _h_project(self, version: str, query: Mapping[str, str], body: Any, ref: str) -> _Reply:
        project = self._find_project(ref)
        payload = self._project_json(project, version)
        payload["issueTypes"] = [self._issue_type_json(t[0], version) for t in _ISSUE_TYPES]
        payload["components"] = self._components_json(project, version)
        return _Reply(200, payload)

    def _h_project_components(
        self, version: str, query: Mapping[str, str], body: Any, ref: str
    ) -> _Reply:
        return _Reply(200, self._components_json(self._find_project(ref), version))

    def _h_issue_get(self, version: str, query: Mapping[str, str], body: Any, ref: str) -> _Reply:
        issue = self._find_issue(ref)
        expand = set(_csv(query.get("expand", "")))
        payload = self._issue_json(issue, version, query.get("fields"), expand)
        return _Reply(200, payload)

    def _h_issue_edit(self, version: str, query: Mapping[str, str], body: Any, ref: str) -> _Reply:
        issue = self._find_issue(ref)
        _check_body_keys(body, _BODY_KEYS, _UPDATE_BEAN)  # "transition" is ignored here
        self._commit(issue, self._edit(issue, body, version, _EDITABLE))
        if query.get("returnIssue") == "true":
            return _Reply(200, self._issue_json(self._issues[issue.key], version))
        return _Reply(204, None)

    def _h_comments_get(
        self, version: str, query: Mapping[str, str], body: Any, ref: str
    ) -> _Reply:
        issue = self._find_issue(ref)
        with_properties = "properties" in _csv(query.get("expand", ""))
        comments = [self._comment_json(issue, c, version, with_properties) for c in issue.comments]
        if query.get("orderBy", "").startswith("-"):
            comments.reverse()
        return _Reply(200, _page("comments", comments, query))

    def _h_comment_add(self, version: str, query: Mapping[str, str], body: Any, ref: str) -> _Reply:
        issue = self._find_issue(ref)
        _check_body_keys(body, _COMMENT_KEYS, _COMMENT_BEAN)
        error = _comment_error(body, version)
        if error:
            raise _Rejected({"comment": error})
        comment = self._new_comment(body["body"], self.me_id, body)
        issue.comments.append(comment)
        issue.updated = self._clock.tick()
        return _Reply(201, self._comment_json(issue, comment, version, False))

    def _h_transitions_get(
        self, version: str, query: Mapping[str, str], body: Any, ref: str
    ) -> _Reply:
        issue = self._find_issue(ref)
        wanted = query.get("transitionId")
        with_fields = "transitions.fields" in _csv(query.get("expand", ""))
        listed = [
            self._transition_json(t, version, with_fields)
            for t in self._available(issue)
            if wanted in (None, t.id)
        ]
        return _Reply(200, {"expand": "transitions", "transitions": listed})

    def _h_transition_do(
        self, version: str, query: Mapping[str, str], body: Any, ref: str
    ) -> _Reply:
        issue = self._find_issue(ref)
        _check_body_keys(body, _BODY_KEYS, _UPDATE_BEAN)
        transition = self._requested_transition(issue, body)
        draft = self._edit(issue, body, version, _EDITABLE | {"resolution"})
        self._move(draft, transition.target)
        self._commit(issue, draft)
        return _Reply(204, None)

    def _h_issue_bulk(self, version: str, query: Mapping[str, str], body: Any) -> _Reply:
        _check_body_keys(body, frozenset({"issueUpdates"}), _ISSUES_BEAN)
        updates = body.get("issueUpdates")
        if not isinstance(updates, list) or not updates:
            raise _Rejected(messages=["Issue updates must not be empty."])  # fake wording
        if len(updates) > _MAX_BULK:
            raise _Rejected(messages=[f"Only {_MAX_BULK} issues can be created at once."])
        created, errors = [], []
        for index, update in enumerate(updates):
            try:
                created.append(self._create(update, version))
            except _Rejected as rejected:
                errors.append(
                    {"status": 400, "elementErrors": rejected.body, "failedElementNumber": index}
                )
        payload = {"issues": created, "errors": errors}
        return _Reply(201 if created else 400, payload)

    # -- lookups -------------------------------------------------------------------------------

    def _find_issue(self, ref: str) -> _Issue:
        issue = self._issues.get(ref) or next(
            (i for i in self._issues.values() if i.id == ref), None
        )
        if issue is None:
            raise _NotFound(ISSUE_NOT_FOUND_BODY)
        return issue

    def _find_project(self, ref: str) -> _Project:
        for project in self.projects.values():
            if ref in (project.key, project.id):
                return project
        raise _NotFound(error_body(messages=[f"No project could be found with key '{ref}'."]))

    def _status_id(self, name: str) -> str:
        for status in self.statuses.values():
            if name in (status.name, status.id):
                return status.id
        raise ValueError(f"unknown status {name!r}")

    def _priority(self, ref: str) -> tuple[str, str]:
        for priority in self.priorities:
            if ref in priority:
                return priority
        raise ValueError(f"unknown priority {ref!r}")

    def _issue_type(self, ref: str) -> tuple[str, str, bool]:
        for issue_type in _ISSUE_TYPES:
            if ref in issue_type[:2]:
                return issue_type
        raise ValueError(f"unknown issue type {ref!r}")

    def _available(self, issue: _Issue) -> list[_Transition]:
        return [t for t in self.transitions if t.sources is None or issue.status in t.sources]

    def _requested_transition(self, issue: _Issue, body: Mapping[str, Any]) -> _Transition:
        wanted = body.get("transition")
        if not isinstance(wanted, Mapping) or wanted.get("id") in (None, ""):
            raise _Rejected(messages=["Missing 'transition' identifier"])  # fake wording
        transition_id = str(wanted["id"])
        if not transition_id.isdigit():
            raise _Rejected(messages=[TRANSITION_NOT_INTEGER])
        for transition in self._available(issue):
            if transition.id == transition_id:
                return transition
        raise _Rejected(messages=[f"Transition id '{transition_id}' is not valid for this issue."])

    # -- editing: all-or-nothing on a draft ----------------------------------------------------

    def _edit(
        self, issue: _Issue, body: Mapping[str, Any], version: str, allowed: frozenset[str]
    ) -> _Issue:
        """A copy of ``issue`` with ``fields`` and ``update`` applied; _Rejected on any error."""
        fields, update = body.get("fields") or {}, body.get("update") or {}
        if not isinstance(fields, Mapping) or not isinstance(update, Mapping):
            raise _Rejected(messages=["'fields' and 'update' must be JSON objects"])  # fake wording
        draft, errors = copy.deepcopy(issue), {}
        for name in sorted(set(fields) & set(update)):
            errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'"  # fake
        for name, value in fields.items():
            _note(errors, name, self._set_field(draft, name, value, version, allowed))
        for name, operations in update.items():
            _note(errors, name, self._apply_operations(draft, name, operations, version, allowed))
        if errors:
            raise _Rejected(errors)
        return draft

    def _commit(self, issue: _Issue, draft: _Issue) -> None:
        if draft != issue:
            draft.updated = self._clock.tick()
        self._issues[issue.key] = draft

    def _move(self, draft: _Issue, target: str) -> None:
        if draft.status != target:
            draft.status, draft.status_changed = target, self._clock.tick()
        if draft.resolution and not draft.resolution_date:
            draft.resolution_date = self._clock.tick()

    def _apply_operations(
        self, draft: _Issue, name: str, operations: Any, version: str, allowed: frozenset[str]
    ) -> str | None:
        if not isinstance(operations, list):
            return "data was not an array"
        for operation in operations:
            if not isinstance(operation, Mapping) or not operation:
                return f"Operation on field '{name}' must be an object"  # fake wording
            for verb, value in operation.items():
                error = self._apply_operation(draft, name, verb, value, version, allowed)
                if error:
                    return error
        return None

    def _apply_operation(
        self, draft: _Issue, name: str, verb: str, value: Any, version: str, allowed: frozenset[str]
    ) -> str | None:
        if name == "comment" and verb == "add":
            return self._operation_comment(draft, value, version)
        if name in ("labels", "components") and verb in ("add", "remove"):
            return self._operation_list(draft, name, verb, value)
        if verb == "set":
            return self._set_field(draft, name, value, version, allowed)
        if name not in allowed and not name.startswith("customfield_") and name != "comment":
            return unknown_field(name)
        return f"Operation '{verb}' is not supported for field '{name}'"  # fake wording

    def _operation_comment(self, draft: _Issue, value: Any, version: str) -> str | None:
        if not isinstance(value, Mapping):
            return COMMENT_EMPTY
        unknown = sorted(set(value) - _COMMENT_KEYS)
        if unknown:
            return unrecognized(unknown[0], _COMMENT_BEAN)
        error = _comment_error(value, version)
        if error is None:
            draft.comments.append(self._new_comment(value["body"], self.me_id, value))
        return error

    def _operation_list(self, draft: _Issue, name: str, verb: str, value: Any) -> str | None:
        if name == "labels":
            error = _label_error(value)
            items, item = draft.labels, value
        else:
            item, error = self._component_ref(draft.project, value)
            items = draft.components
        if error:
            return error
        if verb == "add" and item not in items:
            items.append(item)
        elif verb == "remove" and item in items:
            items.remove(item)
        return None

    def _set_field(
        self, draft: _Issue, name: str, value: Any, version: str, allowed: frozenset[str]
    ) -> str | None:
        """Set one field the way ``fields`` does; the error message, or None."""
        if name.startswith("customfield_"):
            if name not in self.custom_fields:
                return unknown_field(name)
            draft.custom[name] = copy.deepcopy(value)
            return None
        setter = getattr(self, f"_set_{name}", None)
        if name not in allowed or setter is None:
            return unknown_field(name)
        return setter(draft, value, version)

    def _set_summary(self, draft: _Issue, value: Any, version: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return SUMMARY_REQUIRED
        if "\n" in value or "\r" in value:
            return SUMMARY_NEWLINE
        draft.summary = value
        return None

    def _set_description(self, draft: _Issue, value: Any, version: str) -> str | None:
        error = _rich_text_error(value, version)
        if error is None:
            draft.description = copy.deepcopy(value)
        return error

    def _set_environment(self, draft: _Issue, value: Any, version: str) -> str | None:
        error = _rich_text_error(value, version)
        if error is None:
            draft.environment = copy.deepcopy(value)
        return error

    def _set_priority(self, draft: _Issue, value: Any, version: str) -> str | None:
        if not isinstance(value, Mapping) or not (value.get("name") or value.get("id")):
            return "Could not find valid 'id' or 'name' in priority object."
        for priority_id, name in self.priorities:
            if value.get("id") == priority_id or value.get("name") == name:
                draft.priority = priority_id
                return None
        if value.get("name"):
            return f"Priority name '{value['name']}' is not valid"
        return f"Priority with id '{value['id']}' does not exist"  # fake wording

    def _set_assignee(self, draft: _Issue, value: Any, version: str) -> str | None:
        user, error = self._user_ref(value)
        if error is None:
            draft.assignee = user
        return error

    def _set_reporter(self, draft: _Issue, value: Any, version: str) -> str | None:
        user, error = self._user_ref(value)
        if error is None and user is None:
            return "Reporter is required."  # fake wording
        if error is None:
            draft.reporter = user
        return error

    def _set_labels(self, draft: _Issue, value: Any, version: str) -> str | None:
        if not isinstance(value, list):
            return "data was not an array"
        for label in value:
            if _label_error(label):
                return _label_error(label)
        draft.labels = list(dict.fromkeys(value))
        return None

    def _set_components(self, draft: _Issue, value: Any, version: str) -> str | None:
        if not isinstance(value, list):
            return "data was not an array"
        resolved = []
        for ref in value:
            component_id, error = self._component_ref(draft.project, ref)
            if error:
                return error
            resolved.append(component_id)
        draft.components = list(dict.fromkeys(resolved))
        return None

    def _set_duedate(self, draft: _Issue, value: Any, version: str) -> str | None:
        if value is not None and not _is_date(value):
            return f"Error parsing date string: {value}"
        draft.duedate = value
        return None

    def _set_resolution(self, draft: _Issue, value: Any, version: str) -> str | None:
        if value is None:
            draft.resolution = draft.resolution_date = None
            return None
        ref = _ref_value(value, ("id", "name")) if isinstance(value, Mapping) else None
        for resolution_id, name in _RESOLUTIONS:
            if ref in (resolution_id, name):
                draft.resolution = resolution_id
                return None
        return f"Resolution '{_ref_text(value)}' is not valid"  # fake wording

    def _user_ref(self, value: Any) -> tuple[str | None, str | None]:
        """The user id a ``{"accountId": ...}`` / ``{"name": ...}`` value names."""
        if value is None:
            return None, None
        keys = ("accountId", "id") if self.cloud else ("name", "key")
        ident = next((value[k] for k in keys if isinstance(value, Mapping) and value.get(k)), None)
        if ident is None or ident not in self.users:
            return None, f"User '{_ref_text(value)}' does not exist."
        return str(ident), None

    def _component_ref(self, project_key: str, value: Any) -> tuple[str, str | None]:
        components = self.projects[project_key].components
        if isinstance(value, Mapping) and value.get("id"):
            found = str(value["id"])
            if found in components:
                return found, None
            return found, f"Component with id '{found}' does not exist."  # fake wording
        name = value.get("name") if isinstance(value, Mapping) else None
        for component_id, component in components.items():
            if component["name"] == name:
                return component_id, None
        return "", f"Component name '{name if name is not None else ''}' is not valid"

    def _new_comment(self, body: Any, author: str, extra: Mapping[str, Any]) -> _Comment:
        return _Comment(
            id=str(next(self._comment_ids)),
            author=author,
            body=copy.deepcopy(body),
            created=self._clock.tick(),
            properties=copy.deepcopy(list(extra.get("properties") or [])),
            visibility=copy.deepcopy(extra.get("visibility")),
        )

    # -- bulk create ---------------------------------------------------------------------------

    def _create(self, update: Any, version: str) -> dict[str, Any]:
        """Create one ``issueUpdates`` element; its ``{"id", "key", "self"}`` or _Rejected."""
        if not isinstance(update, Mapping):
            raise _Rejected(messages=["Issue update must be a JSON object"])  # fake wording
        _check_body_keys(update, _BODY_KEYS, _UPDATE_BEAN)
        fields = update.get("fields") or {}
        project, issue_type, parent = self._creation_context(fields)
        now = self._clock.tick()
        blank = _Issue(
            id=str(next(self._ids)),
            key=self._next_key(project.key),
            project=project.key,
            issuetype=issue_type[0],
            summary="",
            description=None,
            status=self._initial_status(),
            priority="3",
            labels=[],
            components=[],
            reporter=self.me_id,
            assignee=None,
            duedate=None,
            custom={},
            created=now,
            updated=now,
            status_changed=now,
            parent=parent.key if parent else None,
        )
        body = {**update, "fields": {k: v for k, v in fields.items() if k not in _CREATE_ONLY}}
        draft = self._edit(blank, body, version, _EDITABLE)
        if not draft.summary:
            raise _Rejected({"summary": SUMMARY_REQUIRED})
        draft.updated = now
        self._store(draft)
        return {"id": draft.id, "key": draft.key, "self": self._rest(version, f"issue/{draft.id}")}

    def _creation_context(
        self, fields: Mapping[str, Any]
    ) -> tuple[_Project, tuple[str, str, bool], _Issue | None]:
        errors: dict[str, str] = {}
        project = self._project_ref(fields.get("project"))
        issue_type = self._issue_type_ref(fields.get("issuetype"))
        parent = self._parent_ref(fields.get("parent"))
        if project is None:
            errors["project"] = INVALID_PROJECT
        if issue_type is None:
            errors["issuetype"] = INVALID_ISSUE_TYPE
        elif issue_type[2] and parent is None:
            missing = "parent" not in fields
            errors["parent"] = SUBTASK_NEEDS_PARENT if missing else PARENT_NOT_FOUND
        if project and parent and parent.project != project.key:
            errors["project"] = SUBTASK_OTHER_PROJECT
        if errors:
            raise _Rejected(errors)
        assert project is not None and issue_type is not None
        return project, issue_type, parent

    def _project_ref(self, value: Any) -> _Project | None:
        ref = _ref_value(value, ("key", "id"))
        return next((p for p in self.projects.values() if ref in (p.key, p.id)), None)

    def _issue_type_ref(self, value: Any) -> tuple[str, str, bool] | None:
        ref = _ref_value(value, ("id", "name"))
        return next((t for t in _ISSUE_TYPES if ref in t[:2]), None)

    def _parent_ref(self, value: Any) -> _Issue | None:
        ref = _ref_value(value, ("key", "id"))
        try:
            return self._find_issue(ref) if ref else None
        except _NotFound:
            return None

    def _initial_status(self) -> str:
        new = [s.id for s in self.statuses.values() if s.category == "new"]
        return new[0] if new else next(iter(self.statuses))

    # -- rendering -----------------------------------------------------------------------------

    def _rest(self, version: str, path: str) -> str:
        return f"{self.site_url}/rest/api/{version}/{path}"

    def _server_info(self) -> dict[str, Any]:
        if self.cloud:
            version, numbers, build, kind = "1001.0.0-SNAPSHOT", [1001, 0, 0], 100283, "Cloud"
        else:
            version, numbers, build, kind = "9.12.2", [9, 12, 2], 9120002, "Server"
        return {
            "baseUrl": self.site_url,
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": kind,
            "buildNumber": build,
            "buildDate": "2024-01-01T00:00:00.000+0000",
            "serverTime": self._clock.tick(),
            "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71",
            "serverTitle": "Jira",
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }

    def _user_json(self, user: _User, version: str, email: bool = False) -> dict[str, Any]:
        avatar = "https://avatar-management.example/initials/DD.png"
        payload: dict[str, Any]
        if self.cloud:
            payload = {
                "self": self._rest(version, f"user?accountId={quote(user.ident)}"),
                "accountId": user.account_id,
            }
        else:
            payload = {
                "self": self._rest(version, f"user?username={quote(user.ident)}"),
                "name": user.name,
                "key": user.name,
            }
        if email or not self.cloud:
            payload["emailAddress"] = user.email
        sizes = ("48x48", "24x24", "16x16", "32x32")
        payload.update(
            avatarUrls={size: f"{avatar}?s={size[:2]}" for size in sizes},
            displayName=user.display_name,
            active=user.active,
            timeZone=user.time_zone,
        )
        if self.cloud:
            payload["accountType"] = "atlassian"
        return payload

    def _status_json(self, status_id: str, version: str) -> dict[str, Any]:
        status = self.statuses[status_id]
        category_id, colour, cloud_name, server_name = _CATEGORIES[status.category]
        return {
            "self": self._rest(version, f"status/{status.id}"),
            "description": "",
            "iconUrl": f"{self.site_url}/",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": self._rest(version, f"statuscategory/{category_id}"),
                "id": category_id,
                "key": status.category,
                "colorName": colour,
                "name": cloud_name if self.cloud else server_name,
            },
        }

    def _priority_json(self, priority_id: str | None, version: str) -> dict[str, Any] | None:
        if priority_id is None:
            return None
        name = dict(self.priorities)[priority_id]
        return {
            "self": self._rest(version, f"priority/{priority_id}"),
            "iconUrl": f"{self.site_url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def _issue_type_json(self, type_id: str, version: str) -> dict[str, Any]:
        _, name, subtask = self._issue_type(type_id)
        return {
            "self": self._rest(version, f"issuetype/{type_id}"),
            "id": type_id,
            "description": "",
            "iconUrl": f"{self.site_url}/images/icons/issuetypes/{name.lower()}.svg",
            "name": name,
            "subtask": subtask,
            "hierarchyLevel": -1 if subtask else 0,
        }

    def _project_json(self, project: _Project, version: str) -> dict[str, Any]:
        return {
            "self": self._rest(version, f"project/{project.id}"),
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "service_desk" if project.service_desk else "software",
            "simplified": False,
            "avatarUrls": {"48x48": f"{self.site_url}/secure/projectavatar?pid={project.id}"},
        }

    def _component_json(
        self, project: _Project, component: Mapping[str, Any], version: str
    ) -> dict[str, Any]:
        return {
            "self": self._rest(version, f"component/{component['id']}"),
            "id": component["id"],
            "name": component["name"],
            "description": component["description"],
            "assigneeType": "PROJECT_DEFAULT",
            "realAssigneeType": "PROJECT_DEFAULT",
            "isAssigneeTypeValid": False,
            "project": project.key,
            "projectId": int(project.id),
        }

    def _components_json(self, project: _Project, version: str) -> list[dict[str, Any]]:
        return [self._component_json(project, c, version) for c in project.components.values()]

    def _resolution_json(self, resolution_id: str | None, version: str) -> dict[str, Any] | None:
        if resolution_id is None:
            return None
        return {
            "self": self._rest(version, f"resolution/{resolution_id}"),
            "id": resolution_id,
            "description": "",
            "name": dict(_RESOLUTIONS)[resolution_id],
        }

    def _comment_json(
        self, issue: _Issue, comment: _Comment, version: str, with_properties: bool
    ) -> dict[str, Any]:
        author = self._user_json(self.users[comment.author], version)
        payload: dict[str, Any] = {
            "self": self._rest(version, f"issue/{issue.id}/comment/{comment.id}"),
            "id": comment.id,
            "author": author,
            "body": _render_rich(comment.body, version),
            "updateAuthor": author,
            "created": comment.created,
            "updated": comment.created,
        }
        if self.cloud:
            service_desk = self.projects[issue.project].service_desk
            payload["jsdPublic"] = not (service_desk and comment.internal)
        if comment.visibility is not None:
            payload["visibility"] = copy.deepcopy(comment.visibility)
        if with_properties:
            payload["properties"] = copy.deepcopy(comment.properties)
        return payload

    def _transition_json(
        self, transition: _Transition, version: str, with_fields: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": transition.id,
            "name": transition.name,
            "to": self._status_json(transition.target, version),
            "hasScreen": False,
            "isGlobal": transition.sources is None,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if with_fields:
            payload["fields"] = {}
        return payload

    def _issue_link_json(self, key: str, version: str) -> dict[str, Any]:
        linked = self._issues[key]
        return {
            "id": linked.id,
            "key": linked.key,
            "self": self._rest(version, f"issue/{linked.id}"),
            "fields": {
                "summary": linked.summary,
                "status": self._status_json(linked.status, version),
                "priority": self._priority_json(linked.priority, version),
                "issuetype": self._issue_type_json(linked.issuetype, version),
            },
        }

    def _issue_fields(self, issue: _Issue, version: str) -> dict[str, Any]:
        user = self._user_ref_json
        comments = [self._comment_json(issue, c, version, False) for c in issue.comments]
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "description": _render_rich(issue.description, version),
            "environment": _render_rich(issue.environment, version),
            "issuetype": self._issue_type_json(issue.issuetype, version),
            "project": self._project_json(self.projects[issue.project], version),
            "status": self._status_json(issue.status, version),
            "statuscategorychangedate": issue.status_changed,
            "priority": self._priority_json(issue.priority, version),
            "labels": list(issue.labels),
            "components": [
                self._component_json(self.projects[issue.project], c, version)
                for c in map(self.projects[issue.project].components.__getitem__, issue.components)
            ],
            "reporter": user(issue.reporter, version),
            "creator": user(issue.reporter, version),
            "assignee": user(issue.assignee, version),
            "duedate": issue.duedate,
            "resolution": self._resolution_json(issue.resolution, version),
            "resolutiondate": issue.resolution_date,
            "created": issue.created,
            "updated": issue.updated,
            "subtasks": [self._issue_link_json(k, version) for k in issue.subtasks],
            "comment": {
                "comments": comments,
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            },
            **copy.deepcopy(issue.custom),
        }
        if issue.parent:
            fields["parent"] = self._issue_link_json(issue.parent, version)
        return fields

    def _user_ref_json(self, ident: str | None, version: str) -> dict[str, Any] | None:
        return None if ident is None else self._user_json(self.users[ident], version)

    def _issue_json(
        self,
        issue: _Issue,
        version: str,
        fields_param: str | None = None,
        expand: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        fields = _select_fields(self._issue_fields(issue, version), fields_param)
        payload: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": issue.id,
            "self": self._rest(version, f"issue/{issue.id}"),
            "key": issue.key,
            "fields": fields,
        }
        if "names" in expand:
            payload["names"] = {k: self._field_name(k) for k in fields}
        if "transitions" in expand:
            payload["transitions"] = [
                self._transition_json(t, version, False) for t in self._available(issue)
            ]
        return payload

    def _field_name(self, field_id: str) -> str:
        if field_id in self.custom_fields:
            return str(self.custom_fields[field_id]["name"])
        return next((n for i, n, _ in _SYSTEM_FIELDS if i == field_id), field_id)

    def _custom_field_json(self) -> list[dict[str, Any]]:
        result = []
        for field_id, spec in self.custom_fields.items():
            number = field_id.removeprefix("customfield_")
            result.append(
                {
                    "id": field_id,
                    "key": field_id,
                    "name": spec["name"],
                    "custom": True,
                    "orderable": True,
                    "navigable": True,
                    "searchable": True,
                    "clauseNames": [f"cf[{number}]", spec["name"]],
                    "schema": {
                        "type": spec["type"],
                        "customId": int(number) if number.isdigit() else 0,
                    },
                }
            )
        return result


# -- routing table and pure helpers ------------------------------------------------------------

_V = "/rest/api/<version>"
_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", f"{_V}/serverInfo", "server_info"),
    ("GET", f"{_V}/myself", "myself"),
    ("GET", f"{_V}/field", "fields"),
    ("GET", f"{_V}/priority", "priorities"),
    ("GET", f"{_V}/status", "statuses"),
    ("GET", f"{_V}/user", "user"),
    ("POST", f"{_V}/issue/bulk", "issue_bulk"),
    ("GET", f"{_V}/issue/<ref>", "issue_get"),
    ("PUT", f"{_V}/issue/<ref>", "issue_edit"),
    ("GET", f"{_V}/issue/<ref>/comment", "comments_get"),
    ("POST", f"{_V}/issue/<ref>/comment", "comment_add"),
    ("GET", f"{_V}/issue/<ref>/transitions", "transitions_get"),
    ("POST", f"{_V}/issue/<ref>/transitions", "transition_do"),
    ("GET", f"{_V}/project/<ref>", "project"),
    ("GET", f"{_V}/project/<ref>/components", "project_components"),
)


class _NotFound(_Rejected):
    """A 404 with an ErrorCollection; raised by lookups, answered by ``_dispatch``."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        super().__init__()
        self.body = dict(body)


def _default_site(deployment: str) -> str:
    return (
        "https://dispute-desk.atlassian.net"
        if deployment == "cloud"
        else "https://jira.example.com"
    )


def _served_version(raw: str) -> str:
    return "2" if raw == "latest" else raw


def _no_such_version(deployment: str, request: Request) -> str:
    return (
        f"FakeJira({deployment}) does not serve {request.path}: Jira Server/Data Center has "
        "only REST API v2 (and latest)"
    )


def _parse_json(raw: bytes) -> Any | None:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


_DEFAULT_FAULT_BODIES: dict[int, bytes | dict[str, Any]] = {
    429: RATE_LIMITED_BODY,
    401: UNAUTHORIZED_BODY,
    404: ISSUE_NOT_FOUND_BODY,
    409: CONFLICT_BODY,
}


def _fault_body(
    status: int, body: str | bytes | Mapping[str, Any] | list[Any] | None
) -> tuple[bytes, str]:
    if body is None:
        body = _DEFAULT_FAULT_BODIES.get(status, b"")
    if isinstance(body, (Mapping, list)):
        return json.dumps(body).encode(), "application/json;charset=UTF-8"
    data = body.encode() if isinstance(body, str) else body
    is_json = _parse_json(data) is not None
    return data, "application/json;charset=UTF-8" if is_json else "text/plain;charset=UTF-8"


def _unsupported(method: str, path: str, exc: HTTPException) -> _Reply:
    message = (
        f"FakeJiraUnsupportedEndpoint: {method} {path} is not implemented by "
        f"tests/fakes/jira.py (routing said {exc.code})"
    )
    return _Reply(501, error_body(messages=[message]))


def _check_body_keys(body: Any, allowed: frozenset[str], bean: str) -> None:
    """Reject a non-object body or undeclared keys, as Jira's Jackson beans do."""
    if not isinstance(body, Mapping):
        raise _Rejected(messages=["No content to map to Object due to end of input"])
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _Rejected(messages=[unrecognized(unknown[0], bean)])


def _comment_error(comment: Mapping[str, Any], version: str) -> str | None:
    body = comment.get("body")
    if body in (None, "") or (isinstance(body, str) and not body.strip()):
        return COMMENT_EMPTY
    error = _rich_text_error(body, version)
    if error is None and not isinstance(comment.get("properties", []), list):
        return "properties must be an array"  # fake wording
    return error


def _rich_text_error(value: Any, version: str) -> str | None:
    """v3 takes ADF (or null), v2 takes strings (or null)."""
    if value is None:
        return None
    if version == "3":
        return None if is_adf(value) else ADF_REQUIRED
    return None if isinstance(value, str) else STRING_REQUIRED


def _render_rich(value: Any, version: str) -> Any:
    if value is None:
        return None
    if version == "3":
        return copy.deepcopy(value) if is_adf(value) else adf(str(value))
    return value if isinstance(value, str) else adf_text(value)


def _label_error(label: Any) -> str | None:
    if not isinstance(label, str) or not label:
        return "Label must be a non-empty string"  # fake wording
    if re.search(r"\s", label):
        return f"The label '{label}' contains spaces which is invalid."
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _ref_value(value: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(value, Mapping):
        found = next((value[k] for k in keys if value.get(k) not in (None, "")), None)
        return None if found is None else str(found)
    return None if value in (None, "") else str(value)


def _ref_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(next(iter(value.values()), ""))
    return str(value)


def _note(errors: dict[str, str], name: str, error: str | None) -> None:
    if error and name not in errors:
        errors[name] = error


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _select_fields(fields: dict[str, Any], spec: str | None) -> dict[str, Any]:
    """Apply ``?fields=``: names, ``*all``/``*navigable`` and ``-name`` exclusions."""
    parts = _csv(spec or "")
    wanted = [p for p in parts if not p.startswith(("-", "*"))]
    excluded = {p[1:] for p in parts if p.startswith("-")}
    everything = not wanted or any(p in ("*all", "*navigable") for p in parts)
    return {k: v for k, v in fields.items() if (everything or k in wanted) and k not in excluded}


def _page(key: str, items: list[Any], query: Mapping[str, str]) -> dict[str, Any]:
    start = int(query.get("startAt", 0) or 0)
    size = int(query.get("maxResults", 5000) or 5000)
    return {
        "startAt": start,
        "maxResults": size,
        "total": len(items),
        key: items[start : start + size],
    }


def _system_field_json(spec: tuple[str, str, str]) -> dict[str, Any]:
    field_id, name, kind = spec
    return {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [field_id],
        "schema": {"type": kind, "system": field_id},
    }
