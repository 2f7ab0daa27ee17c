"""Validate request bodies against the official Zendesk Support OpenAPI document.

Why this exists: the fake in ``tests/fakes/zendesk.py`` accepts whatever it is sent
(as real Zendesk mostly does: unknown keys are ignored, at best with an
``x-zendesk-api-warn`` header). A typo in a field name therefore passes every test
and silently does nothing in production. ``OpenAPISpec.validate_request`` checks a
body against the published schema, and ``strict=True`` also rejects keys the schema
does not declare and keys it marks ``readOnly``.

Spec: ``/work/shared/specs/zendesk-support-oas.yaml`` (OpenAPI 3.0.3, "Support API"
2.0.0, the as-downloaded https://developer.zendesk.com/zendesk/oas.yaml; see
``/work/shared/specs/SOURCES.md``). Override the location with the environment variable
``DISPUTE_DESK_ZENDESK_OAS``. Parsing takes ~0.7 s with libyaml (``yaml.CSafeLoader``),
so the parsed document is cached per process (``load_spec``).

Loading quirk: the file contains ``change: =`` in an example (TriggerChangeObject).
PyYAML resolves a bare ``=`` to the YAML 1.1 ``tag:yaml.org,2002:value`` tag, which
SafeLoader cannot construct; ``_SpecLoader`` reads it as the string ``"="``.

What the spec says for ``PUT /api/v2/tickets/{ticket_id}`` (operationId ``UpdateTicket``)
---------------------------------------------------------------------------------------
* Request body: ``TicketUpdateRequest`` = ``{"ticket": TicketObject, "system_metadata":
  object}``. No ``required``, and no ``additionalProperties`` anywhere on the path, so
  non-strict validation accepts any unknown key.
* ``TicketObject`` is the same schema as the read model; it marks fields ``readOnly`` /
  ``writeOnly``. Writable fields our adapter may use: ``subject`` (string, nullable),
  ``status`` (enum new/open/pending/hold/solved/closed, lower case, *not* nullable),
  ``priority`` (enum urgent/high/normal/low, nullable), ``type`` (problem/incident/
  question/task, nullable), ``group_id``, ``assignee_id``, ``requester_id``,
  ``organization_id``, ``brand_id``, ``custom_status_id``, ``ticket_form_id`` (int64,
  nullable), ``tags`` (array of strings OR a single string; replaces the tag list),
  ``custom_fields`` / ``fields`` (array of ``TicketFieldValueInput`` = ``{id (required),
  value: string|number|boolean|array of strings}``), ``external_id``, ``due_at``,
  ``collaborator_ids``, ``sharing_agreement_ids``, ``description`` (declared, not
  readOnly), and the write-only ``comment``, ``safe_update`` (boolean),
  ``updated_stamp`` (string, format date-time), ``assignee_email``, ``metadata``,
  ``macro_id(s)``, ``email_ccs``, ``followers``, ``additional_collaborators``,
  ``via_id``, ...
* ``readOnly`` in TicketObject: ``id``, ``url``, ``created_at``, ``updated_at``,
  ``via``, ``is_public``, ``has_incidents``, ``follower_ids``, ``email_cc_ids``,
  ``followup_ids``, ``satisfaction_rating``, ``generated_timestamp``, ... Zendesk
  ignores these and says so: the recorded 200 response to zenpy's update carries
  ``x-zendesk-api-warn: {... :unpermitted_keys=>["ticket.id"] ...}``.
* ``comment`` is ``TicketCommentObject``: writable ``body``, ``html_body``, ``public``
  (boolean), ``author_id`` (int64, nullable; defaults to the authenticated user),
  ``uploads`` (array of upload tokens), ``translate_to``, ``add_short_url``,
  ``channel_back``, ``channel_source_id``; readOnly ``id``, ``type``, ``plain_body``,
  ``created_at``, ``attachments``, ``audit_id``, ``metadata``. ``via`` is declared as
  ``TicketAuditViaObject``.
* ``additional_tags`` / ``remove_tags`` are **not** declared for the single update.
  They are declared only in ``TicketsUpdateRequest`` (``PUT /api/v2/tickets/update_many``,
  both the ``{"ticket": ...}`` + ``?ids=`` bulk form and the ``{"tickets": [...]}``
  batch form) and in the voicemail-ticket input. To add/remove tags on one ticket
  without replacing the list, the spec offers ``PUT``/``DELETE
  /api/v2/tickets/{ticket_id}/tags`` (``{"tags": [...], "safe_update": ..,
  "updated_stamp": ..}``) or update_many with a single id.
* ``safe_update``: "When true and an ``updated_stamp`` date is included, protects
  against ticket update collisions ... A value of false has the same effect as true.
  Omit the property to force the updates to not be safe." The 409 response is **not**
  documented for UpdateTicket (its only response is 200 ``TicketUpdateResponse`` =
  ``{"ticket": TicketObject, "audit": AuditObject}``); only the Tags endpoint prose says a
  stale ``updated_stamp`` "returns a 409 Conflict error". No error body schema is given.

What zenpy 2.0.57 sends for ``client.tickets.update(ticket)``
------------------------------------------------------------
``{"ticket": {<attributes assigned since the object was loaded>, "id": <id>}}``. zenpy
always includes ``ticket.id`` (``BaseObject._to_dict`` keeps ``id`` when serialising),
which the spec marks readOnly, so strict validation needs ``allow=ZENPY_ALLOWED``.
Every other key zenpy sends is whatever the caller assigned: zenpy does not check names,
so ``ticket.safe_update = True`` / ``ticket.updated_stamp = ticket.updated_at`` are sent
as written (and a typo like ``ticket.remove_tag`` is sent too -- which is what strict
validation is for). For update_many zenpy sends ``{"tickets": [{..., "id": N}, ...]}``;
there ``id`` is declared writable by the batch branch, so no allow-list is needed.

Update many (``PUT /api/v2/tickets/update_many``, ``TicketsUpdateMany``): body is
``TicketsUpdateRequest`` = oneOf ``{"ticket": TicketObject + additional_tags/remove_tags}``
(required ``ticket``; used with ``?ids=1,2``) or ``{"tickets": [TicketObject +
id/additional_tags/remove_tags]}`` (required ``tickets``, each item requires ``id``,
``maxItems: 100``). Response: ``JobStatusResponse``.

Strict mode (``strict=True``)
-----------------------------
Besides normal OAS 3.0 validation (types, enums, nullable, required, formats such as
int64 and date-time) it reports, recursively, every key that is (a) not declared by any
schema that applies to that object (``properties`` merged over ``allOf``; for
``oneOf``/``anyOf`` the branch the value is valid under), or (b) declared only as
``readOnly``. Objects whose schema declares no ``properties``, or that set
``additionalProperties`` to ``true``/a schema, are open. ``allow`` is an allow-list of
dotted paths, ``*`` matching one segment (an object key or an array index), e.g.
``("ticket.id", "tickets.*.id")``.

Jira Cloud platform spec (``load_jira_spec``, ``JiraOpenAPISpec``)
------------------------------------------------------------------
Spec: ``/work/shared/specs/jira-cloud-platform-swagger-v3.v3.json`` (OpenAPI 3.0.1, version
``1001.0.0-SNAPSHOT-57a0ca5b...``, 417 paths, REST **v3** only; override with
``DISPUTE_DESK_JIRA_OAS``). It is compact JSON, so it is read with ``json`` (~0.05 s, not the
YAML loader) and cached per process. The spec's own narrative ("Version") says v2 and v3
"offer the same collection of operations" and differ only in ADF support, so
``/rest/api/2/...`` and ``/rest/api/latest/...`` (Server/DC, and Cloud v2) are validated
against the ``/rest/api/3/...`` operation.

* ``PUT /rest/api/3/issue/{issueIdOrKey}`` (``editIssue``): required body
  ``IssueUpdateDetails`` = ``fields`` (object, ``additionalProperties: {}``: any field id,
  any value), ``update`` (object: field id -> array of ``FieldUpdateOperation``),
  ``historyMetadata``, ``properties`` (array of ``EntityProperty`` = ``{key, value}``, closed)
  and ``transition`` ("not supported and is ignored here"). The prose: a field may not be in
  both ``fields`` and ``update``; ``update.parent.set.none: true`` removes a parent;
  ``description``, ``environment`` and textarea custom fields take ADF, single-line text
  fields take strings. Query: ``notifyUsers`` (default true; false needs admin rights),
  ``returnIssue`` (default false -> 204 with no body; true -> 200 with the issue),
  ``expand``, ``overrideScreenSecurity``, ``overrideEditableFlag``. Responses: 204, 200,
  400 (body missing, no permission to edit a field, field "not found or not associated with
  the issue's edit screen", invalid transition), 401, 403, 404, 409 (conflicting update),
  422. No error schema per operation; the "Status codes" narrative gives the
  ErrorCollection ``{"errorMessages": [str], "errors": {str: str}, "status": int}``.
* ``FieldUpdateOperation``: ``{"add" | "set" | "remove" | "edit" | "copy": <any JSON>}`` with
  ``additionalProperties: false`` (so ``{"ad": ...}`` fails even non-strict). The values are
  untyped, nothing says one verb per object, and nothing ties verbs to fields; the examples
  are ``labels: [{"add": "triaged"}, {"remove": "blocker"}]``, ``components: [{"set": ""}]``,
  ``summary: [{"set": ...}]``, ``timetracking: [{"edit": {"originalEstimate": ...}}]`` and
  ``copy`` of ``issuelinks`` from ``sourceIssues``.
* Comment *add* inside ``update`` is **not declared**: ``update.comment[].add`` is just an
  untyped ``add``, so any value validates. The only evidence is the ``doTransition`` example,
  ``update.comment[0].add.body`` = an ADF doc; whether ``add.properties`` (e.g.
  ``sd.public.comment``) is honoured there is not stated. ``JiraOpenAPISpec`` additionally
  checks such an ``add`` against the ``Comment`` schema (our rule, not the spec's: Jira
  deserialises it as a comment).
* ``POST .../issue/{issueIdOrKey}/comment`` (``addComment``): body ``Comment``; writable
  ``body`` (no type at all: "The comment text in Atlassian Document Format"), ``visibility``
  (``{type: group|role, value, identifier}``) and ``properties`` (array of ``EntityProperty``,
  "Optional on create and update") -- so ``properties: [{"key": "sd.public.comment", "value":
  {"internal": true}}]`` is declared as a generic property; the key ``sd.public.comment``
  appears nowhere in the spec. ``jsdPublic`` is readOnly and its description points to the
  Service Management API (``/rest/servicedeskapi/request/{id}/comment``) for non-public
  comments. readOnly: ``author``, ``created``, ``id``, ``jsdPublic``,
  ``jsdAuthorCanSeeRequest``, ``renderedBody``, ``self``, ``updateAuthor``, ``updated``. 201.
* ``POST .../issue/{issueIdOrKey}/transitions`` (``doTransition``): the same
  ``IssueUpdateDetails``; ``transition`` is "required when performing a transition" (prose
  only) and ``IssueTransition.id`` is a **string** (every other member is readOnly). 204;
  400 for no transition, no permission, a field not on the transition screen, a field in
  both ``fields`` and ``update``; 404, 409, 413 (per-issue limits), 422. ``GET`` answers
  ``Transitions`` = ``{expand, transitions: [IssueTransition]}``.
* ``POST /rest/api/3/issue/bulk`` (``createIssues``): ``IssuesUpdateBean`` = ``{issueUpdates:
  [IssueUpdateDetails]}``, "up to 50 issues"; a sub-task needs a sub-task issue type and
  ``parent`` with the parent's id or key. 201 ``CreatedIssues`` = ``{issues: [{id, key, self,
  transition, watchers}], errors: [{elementErrors: ErrorCollection, failedElementNumber,
  status}]}``; 400 has the same schema (example: every element failed).
* ADF: the spec has **no ADF schema** -- only prose (13 mentions) and examples. ADF is used in
  v3 for comment ``body`` (also inside issue, issue-link and transition resources), worklog
  ``comment``, ``description``, ``environment`` and textarea custom fields. Because those
  values are untyped, schema validation cannot tell a string from ADF; ``JiraOpenAPISpec``
  therefore checks the known rich-text locations itself: on v3 against
  ``ADF_DOCUMENT_SCHEMA`` (a minimal schema we wrote after the published structure page:
  root ``{"type": "doc", "version": 1, "content": [...]}``, nodes ``{type, content?, text?,
  attrs?, marks?}``, text nodes need non-empty ``text``), on v2 as a string (wiki markup).
  That is the v2 difference the validator tolerates: same schema, strings instead of ADF.
* Strict mode and "closed beans": nearly every Jira request schema says
  ``additionalProperties: true`` (``IssueUpdateDetails``, ``Comment``, ``IssuesUpdateBean``,
  ``Visibility``, ``HistoryMetadata``, ``IssueTransition``), yet Jira's Jackson beans answer
  undeclared properties with 400 ``Unrecognized field "x" (Class ...), not marked as
  ignorable``. With ``closed_beans=True`` (the default) strict mode treats an object schema
  that declares ``properties`` as closed despite ``additionalProperties: true``. ``fields``
  stays open (field ids are per site; Jira -- and the fake -- check them).
* pycontribs/jira sends ``transition.id`` as an integer; pass
  ``stringify=JIRA_LIBRARY_STRINGIFY`` to validate it as the declared string.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DEFAULT_SPEC_PATH = Path(
    os.environ.get("DISPUTE_DESK_ZENDESK_OAS", "/work/shared/specs/zendesk-support-oas.yaml")
)

# Paths zenpy sends that the spec marks readOnly; pass as ``allow=`` in strict mode.
ZENPY_ALLOWED: tuple[str, ...] = ("ticket.id",)

_DOC_URI = "urn:dispute-desk:zendesk-support-oas"
_METHODS = frozenset({"get", "put", "post", "patch", "delete", "head", "options"})
_YAML_LOADER_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

JsonPath = tuple[str | int, ...]


class _SpecLoader(_YAML_LOADER_BASE):  # type: ignore[misc, valid-type]
    """Safe YAML loader that reads YAML 1.1 ``=`` (value tag) as the plain string."""


_SpecLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


@functools.cache
def _load_document(path: str) -> dict[str, Any]:
    """Parse the YAML once per process and path; the result is treated as read-only."""
    with open(path, "rb") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_SpecLoader)
    return document


@functools.cache
def load_spec(path: str | os.PathLike[str] | None = None) -> OpenAPISpec:
    """Return the process-wide ``OpenAPISpec`` for ``path`` (default: the Zendesk spec)."""
    return OpenAPISpec(path or DEFAULT_SPEC_PATH)


@dataclass(frozen=True)
class Operation:
    """One ``paths[template][method]`` entry of the spec."""

    method: str
    template: str
    operation_id: str | None
    pointer: str  # JSON pointer of the operation object inside the document
    definition: Mapping[str, Any]


@dataclass(frozen=True)
class _Route:
    template: str
    regex: re.Pattern[str]
    literal_segments: int
    methods: frozenset[str]


class OpenAPISpec:
    """An OpenAPI 3.0 document with path matching and request-body validation."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_SPEC_PATH) -> None:
        self.path = Path(path).resolve()
        self.document = _load_document(str(self.path))
        self._routes = _compile_routes(self.document.get("paths", {}))
        self._registry: Registry = Registry().with_resource(
            _DOC_URI, Resource.from_contents(self.document, default_specification=DRAFT4)
        )

    # -- lookup -------------------------------------------------------------------

    def operation_exists(self, method: str, path: str) -> bool:
        """True if some path template matching ``path`` declares ``method``."""
        return self.find_operation(method, path) is not None

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The operation for a concrete request path such as ``/api/v2/tickets/7.json``.

        Query string, scheme/host and zenpy's ``.json`` suffix are ignored. When several
        templates match (``/users/me`` and ``/users/{user_id}``), the one with the most
        literal segments wins, like every OpenAPI router.
        """
        verb = method.lower()
        normalized = normalize_path(path)
        candidates = [r for r in self._routes if verb in r.methods and r.regex.match(normalized)]
        if not candidates:
            return None
        route = max(candidates, key=lambda r: r.literal_segments)
        definition = self.document["paths"][route.template][verb]
        pointer = "/" + "/".join(_escape(s) for s in ("paths", route.template, verb))
        return Operation(verb, route.template, definition.get("operationId"), pointer, definition)

    def request_schema_pointer(self, method: str, path: str) -> str | None:
        """JSON pointer to the ``application/json`` request schema, or None if none."""
        operation = self._require_operation(method, path)
        pointer = operation.pointer + "/requestBody"
        body = operation.definition.get("requestBody")
        if isinstance(body, Mapping) and "$ref" in body:
            pointer = _ref_to_pointer(body["$ref"])
            body = self.resolve_pointer(pointer)
        if not isinstance(body, Mapping):
            return None
        if "application/json" not in body.get("content", {}):
            return None
        return pointer + "/content/application~1json/schema"

    def resolve_pointer(self, pointer: str) -> Any:
        """Follow a JSON pointer (``/components/schemas/X``) inside the document."""
        node: Any = self.document
        for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
            step = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(step)] if isinstance(node, list) else node[step]
        return node

    def deref(self, schema: Any) -> Any:
        """Resolve a chain of local ``$ref``s (``#/components/...``) to the target schema."""
        seen: set[str] = set()
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen:
                raise ValueError(f"$ref cycle at {ref}")
            seen.add(ref)
            schema = self.resolve_pointer(_ref_to_pointer(ref))
        return schema

    # -- validation -----------------------------------------------------------------

    def validate_request(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        strict: bool = False,
        allow: Iterable[str] = (),
    ) -> None:
        """Raise AssertionError listing every way ``body`` violates the request schema.

        ``strict`` additionally rejects undeclared and readOnly keys (see module
        docstring); ``allow`` exempts dotted paths (``"ticket.id"``, ``"tickets.*.id"``).
        """
        operation = self._require_operation(method, path)
        pointer = self.request_schema_pointer(method, path)
        where = f"{method.upper()} {path} ({operation.operation_id or operation.template})"
        if pointer is None:
            if body not in (None, b"", ""):
                raise AssertionError(f"{where}: the spec declares no JSON request body")
            return
        problems = [_format_error(e) for e in self._schema_errors(pointer, body)]
        if strict:
            patterns = tuple(allow)
            schema = self.resolve_pointer(pointer)
            for kind, location in self._strict_violations(schema, body, ()):
                if not _allowed(location, patterns):
                    problems.append(f"{_dotted(location)}: {kind}")
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise AssertionError(f"{where}: {len(problems)} violation(s):\n{listing}")

    def _require_operation(self, method: str, path: str) -> Operation:
        operation = self.find_operation(method, path)
        if operation is None:
            raise AssertionError(f"{method.upper()} {path}: no such operation in {self.path.name}")
        return operation

    def _validator(self, schema: Mapping[str, Any]) -> Any:
        return OAS30Validator(schema, registry=self._registry, format_checker=oas30_format_checker)

    def _schema_errors(self, pointer: str, body: Any) -> list[ValidationError]:
        validator = self._validator({"$ref": f"{_DOC_URI}#{pointer}"})
        return sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))

    def _is_valid(self, schema: Mapping[str, Any], instance: Any) -> bool:
        return not any(self._validator(_absolutize(schema)).iter_errors(instance))

    # -- strict mode ------------------------------------------------------------------

    def _strict_violations(
        self, schema: Any, instance: Any, location: JsonPath
    ) -> list[tuple[str, JsonPath]]:
        """Undeclared/readOnly keys under ``instance``; picks the best oneOf/anyOf branch."""
        options = self._conjunctions(schema)
        valid = [o for o in options if all(self._is_valid(s, instance) for s in o)] or options
        results = [self._violations_for(o, instance, location) for o in valid]
        return min(results, key=lambda found: (_shallow_count(found, location), len(found)))

    def _violations_for(
        self, parts: Sequence[Mapping[str, Any]], instance: Any, location: JsonPath
    ) -> list[tuple[str, JsonPath]]:
        if isinstance(instance, dict):
            return self._object_violations(parts, instance, location)
        if isinstance(instance, list):
            items = [p["items"] for p in parts if isinstance(p.get("items"), Mapping)]
            if not items:
                return []
            found: list[tuple[str, JsonPath]] = []
            for index, item in enumerate(instance):
                found += self._strict_violations({"allOf": items}, item, location + (index,))
            return found
        return []

    def _object_violations(
        self, parts: Sequence[Mapping[str, Any]], instance: Mapping[str, Any], location: JsonPath
    ) -> list[tuple[str, JsonPath]]:
        declared: dict[str, list[Any]] = {}
        extra: list[Any] = []
        is_open = not any("properties" in p for p in parts)
        for part in parts:
            for name, sub in (part.get("properties") or {}).items():
                declared.setdefault(name, []).append(sub)
            additional = part.get("additionalProperties")
            if additional is True:
                is_open = True
            elif isinstance(additional, Mapping):
                extra.append(additional)
        found: list[tuple[str, JsonPath]] = []
        for name, value in instance.items():
            here = location + (name,)
            if name in declared:
                subs = declared[name]
                if all(self.deref(s).get("readOnly") for s in subs):
                    found.append(("readOnly in the spec (the API ignores it)", here))
                found += self._strict_violations({"allOf": subs}, value, here)
            elif extra:
                found += self._strict_violations({"allOf": extra}, value, here)
            elif not is_open:
                found.append(("not declared in the spec", here))
        return found

    def _conjunctions(self, schema: Any) -> list[list[Mapping[str, Any]]]:
        """Flatten allOf/oneOf/anyOf into alternatives, each a list of plain schemas."""
        schema = self.deref(schema)
        if not isinstance(schema, Mapping):
            return [[]]
        own = {k: v for k, v in schema.items() if k not in ("allOf", "oneOf", "anyOf")}
        alternatives: list[list[Mapping[str, Any]]] = [[own]]
        for sub in schema.get("allOf", []):
            alternatives = [a + b for a in alternatives for b in self._conjunctions(sub)]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                branches = [b for sub in schema[key] for b in self._conjunctions(sub)]
                alternatives = [a + b for a in alternatives for b in branches]
        return alternatives


# -- helpers ---------------------------------------------------------------------------


def normalize_path(path: str) -> str:
    """``https://x.zendesk.com/api/v2/tickets/7.json?include=users`` -> ``/api/v2/tickets/7``."""
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+", "", path, flags=re.IGNORECASE)
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = path.removesuffix(".json")
    return path.rstrip("/") or "/"


def _compile_routes(paths: Mapping[str, Any]) -> list[_Route]:
    routes = []
    for template, item in paths.items():
        methods = frozenset(m for m in item if m in _METHODS)
        segments = template.strip("/").split("/")
        pattern = "/".join(
            "[^/]+" if re.fullmatch(r"\{[^}]+\}", s) else re.escape(s) for s in segments
        )
        literal = sum(1 for s in segments if "{" not in s)
        routes.append(_Route(template, re.compile(f"^/{pattern}$"), literal, methods))
    return routes


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _ref_to_pointer(ref: str) -> str:
    if not ref.startswith("#"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    return ref[1:]


def _absolutize(node: Any) -> Any:
    """Copy an inline sub-schema with ``#/...`` refs pointing into the registered document.

    A sub-schema taken out of the document is validated on its own; its local refs
    would otherwise resolve against itself instead of against the spec.
    """
    if isinstance(node, Mapping):
        copied = {k: _absolutize(v) for k, v in node.items()}
        ref = copied.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            copied["$ref"] = _DOC_URI + ref
        return copied
    if isinstance(node, list):
        return [_absolutize(item) for item in node]
    return node


def _dotted(location: Iterable[str | int]) -> str:
    return ".".join(str(step) for step in location) or "<body>"


def _allowed(location: JsonPath, patterns: Sequence[str]) -> bool:
    steps = [str(s) for s in location]
    for pattern in patterns:
        parts = pattern.split(".")
        if len(parts) == len(steps) and all(
            fnmatch.fnmatchcase(s, p) for s, p in zip(steps, parts)
        ):
            return True
    return False


def _shallow_count(found: Sequence[tuple[str, JsonPath]], location: JsonPath) -> int:
    """Violations directly on this object: the tie-breaker that picks the right branch."""
    return sum(1 for _, where in found if len(where) == len(location) + 1)


def _format_error(error: ValidationError) -> str:
    text = f"{_dotted(error.absolute_path)}: {error.message}"
    details = sorted({_format_error(sub) for sub in _leaf_errors(error)})
    if details:
        text += " [" + "; ".join(details[:6]) + (" ..." if len(details) > 6 else "") + "]"
    return text


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """Sub-errors of oneOf/anyOf, which otherwise only say 'not valid under any'."""
    for sub in error.context or ():
        if sub.context:
            yield from _leaf_errors(sub)
        else:
            yield sub


# == Jira Cloud platform REST API (see "Jira Cloud platform spec" in the module docstring) =====

JIRA_SPEC_PATH = Path(
    os.environ.get(
        "DISPUTE_DESK_JIRA_OAS", "/work/shared/specs/jira-cloud-platform-swagger-v3.v3.json"
    )
)

# Paths pycontribs/jira sends as integers where the spec declares strings; pass as stringify=.
JIRA_LIBRARY_STRINGIFY: tuple[str, ...] = ("transition.id", "issueUpdates.*.transition.id")

# Minimal Atlassian Document Format schema, after
# https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/ (the spec has none).
ADF_DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["type", "version", "content"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "doc"},
        "version": {"const": 1},
        "content": {"type": "array", "items": {"$ref": "#/definitions/node"}},
    },
    "definitions": {
        "node": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {
                "type": {"type": "string", "minLength": 1},
                "content": {"type": "array", "items": {"$ref": "#/definitions/node"}},
                "text": {"type": "string", "minLength": 1},
                "attrs": {"type": "object"},
                "marks": {"type": "array", "items": {"$ref": "#/definitions/mark"}},
            },
            "if": {"properties": {"type": {"const": "text"}}},
            "then": {"required": ["text"]},
        },
        "mark": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {"type": {"type": "string"}, "attrs": {"type": "object"}},
        },
    },
}

_ISSUE_RICH_TEXT = (
    "fields.description",
    "fields.environment",
    "update.description.*.set",
    "update.environment.*.set",
    "update.comment.*.add.body",
)
# operationId -> dotted paths (``*`` = any key/index) holding ADF on v3 and strings on v2
_JIRA_RICH_TEXT: dict[str, tuple[str, ...]] = {
    "addComment": ("body",),
    "editIssue": _ISSUE_RICH_TEXT,
    "doTransition": _ISSUE_RICH_TEXT,
    "createIssues": tuple(f"issueUpdates.*.{p}" for p in _ISSUE_RICH_TEXT),
}
# operationId -> dotted paths of comment-add operations, checked as ``Comment`` (our rule)
_JIRA_COMMENT_ADDS: dict[str, tuple[str, ...]] = {
    "editIssue": ("update.comment.*.add",),
    "doTransition": ("update.comment.*.add",),
    "createIssues": ("issueUpdates.*.update.comment.*.add",),
}
_JIRA_VERSION = re.compile(
    r"^(?P<prefix>(?:[a-z][a-z0-9+.-]*://[^/]+)?/rest/api/)(?P<v>2|3|latest)/"
)


@functools.cache
def _load_json_document(path: str) -> dict[str, Any]:
    """Parse the JSON once per process and path; the result is treated as read-only."""
    with open(path, "rb") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


@functools.cache
def load_jira_spec(path: str | os.PathLike[str] | None = None) -> JiraOpenAPISpec:
    """Return the process-wide ``JiraOpenAPISpec`` (default: the Jira Cloud v3 spec)."""
    return JiraOpenAPISpec(path or JIRA_SPEC_PATH)


def jira_api_version(path: str) -> str | None:
    """``"2"``, ``"3"`` or ``"latest"`` for a Jira REST path or URL; None otherwise."""
    match = _JIRA_VERSION.match(path)
    return match.group("v") if match else None


def to_v3_path(path: str) -> str:
    """``/rest/api/2/issue/DD-1`` (or ``latest``) -> ``/rest/api/3/issue/DD-1``."""
    return _JIRA_VERSION.sub(lambda m: m.group("prefix") + "3/", path, count=1)


class JiraOpenAPISpec(OpenAPISpec):
    """The Jira Cloud platform spec, also used for v2/latest paths, with ADF/string checks.

    Differences from ``OpenAPISpec`` (see the module docstring): v2/latest paths map to v3;
    rich-text locations are checked as ADF (v3) or strings (v2); comment-add operations in
    ``update`` are checked as ``Comment``; ``strict`` treats beans as closed
    (``closed_beans``); ``stringify`` validates integer values at the given paths as strings.
    """

    def __init__(
        self, path: str | os.PathLike[str] = JIRA_SPEC_PATH, *, closed_beans: bool = True
    ) -> None:
        self.path = Path(path).resolve()
        self.document = _load_json_document(str(self.path))
        self.closed_beans = closed_beans
        self._routes = _compile_routes(self.document.get("paths", {}))
        self._registry = Registry().with_resource(
            _DOC_URI, Resource.from_contents(self.document, default_specification=DRAFT4)
        )

    def find_operation(self, method: str, path: str) -> Operation | None:
        return super().find_operation(method, to_v3_path(path))

    def validate_request(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        strict: bool = False,
        allow: Iterable[str] = (),
        stringify: Iterable[str] = (),
    ) -> None:
        """Raise AssertionError listing every violation (schema, strict, rich text, comments).

        ``allow`` exempts dotted paths from strict findings; ``stringify`` validates integers
        at those paths as strings (``JIRA_LIBRARY_STRINGIFY``).
        """
        operation = self._require_operation(method, path)
        pointer = self.request_schema_pointer(method, path)
        where = f"{method.upper()} {path} ({operation.operation_id or operation.template})"
        if pointer is None:
            if body not in (None, b"", ""):
                raise AssertionError(f"{where}: the spec declares no JSON request body")
            return
        body = _stringify(body, tuple(stringify))
        patterns = tuple(allow)
        problems = [_format_error(e) for e in self._schema_errors(pointer, body)]
        if strict:
            problems += self._strict_problems(self.resolve_pointer(pointer), body, (), patterns)
        problems += self._comment_add_problems(operation, body, strict, patterns)
        problems += _rich_text_problems(operation, body, jira_api_version(path) or "3")
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise AssertionError(f"{where}: {len(problems)} violation(s):\n{listing}")

    def _strict_problems(
        self, schema: Any, body: Any, location: JsonPath, patterns: Sequence[str]
    ) -> list[str]:
        return [
            f"{_dotted(where)}: {kind}"
            for kind, where in self._strict_violations(schema, body, location)
            if not _allowed(where, patterns)
        ]

    def _comment_add_problems(
        self, operation: Operation, body: Any, strict: bool, patterns: Sequence[str]
    ) -> list[str]:
        pointer = "/components/schemas/Comment"
        problems = []
        for pattern in _JIRA_COMMENT_ADDS.get(operation.operation_id or "", ()):
            for location, value in _select(body, pattern.split(".")):
                prefix = f"{_dotted(location)} (checked as Comment)"
                errors = self._schema_errors(pointer, value)
                problems += [f"{prefix}: {_format_error(e)}" for e in errors]
                if strict:
                    schema = self.resolve_pointer(pointer)
                    problems += self._strict_problems(schema, value, location, patterns)
        return problems

    def _object_violations(
        self, parts: Sequence[Mapping[str, Any]], instance: Mapping[str, Any], location: JsonPath
    ) -> list[tuple[str, JsonPath]]:
        if self.closed_beans:
            parts = [_closed_bean(part) for part in parts]
        return super()._object_violations(parts, instance, location)


def _closed_bean(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Drop ``additionalProperties: true`` from a schema that declares ``properties``."""
    if schema.get("additionalProperties") is True and "properties" in schema:
        return {k: v for k, v in schema.items() if k != "additionalProperties"}
    return schema


def _select(
    node: Any, steps: Sequence[str], location: JsonPath = ()
) -> Iterator[tuple[JsonPath, Any]]:
    """(location, value) for every value at a dotted pattern; ``*`` matches any key/index."""
    if not steps:
        yield location, node
        return
    step, rest = steps[0], steps[1:]
    if isinstance(node, Mapping):
        keys = list(node) if step == "*" else [step] if step in node else []
        for key in keys:
            yield from _select(node[key], rest, location + (key,))
    elif isinstance(node, list) and (step == "*" or step.isdigit()):
        indices = range(len(node)) if step == "*" else [int(step)] if int(step) < len(node) else []
        for index in indices:
            yield from _select(node[index], rest, location + (index,))


def _stringify(body: Any, patterns: tuple[str, ...]) -> Any:
    """A copy of ``body`` with integers at ``patterns`` turned into strings."""
    if not patterns:
        return body
    body = copy.deepcopy(body)
    for pattern in patterns:
        for location, value in list(_select(body, pattern.split("."))):
            if isinstance(value, int) and not isinstance(value, bool):
                parent = body
                for step in location[:-1]:
                    parent = parent[step]
                parent[location[-1]] = str(value)
    return body


_ADF_VALIDATOR = Draft7Validator(ADF_DOCUMENT_SCHEMA)


def _rich_text_problems(operation: Operation, body: Any, version: str) -> list[str]:
    problems = []
    for pattern in _JIRA_RICH_TEXT.get(operation.operation_id or "", ()):
        for location, value in _select(body, pattern.split(".")):
            if value is not None:
                problems += _rich_text_value_problems(_dotted(location), value, version)
    return problems


def _rich_text_value_problems(where: str, value: Any, version: str) -> list[str]:
    if version in ("2", "latest"):
        if isinstance(value, str):
            return []
        return [f"{where}: REST v2 takes a wiki-markup string here, got {type(value).__name__}"]
    if not isinstance(value, Mapping):
        kind = type(value).__name__
        return [f"{where}: REST v3 takes an Atlassian Document Format document here, got {kind}"]
    errors = sorted(_ADF_VALIDATOR.iter_errors(value), key=lambda e: list(map(str, e.path)))
    return [f"{_dotted((where, *e.absolute_path))}: not ADF: {e.message}" for e in errors]
