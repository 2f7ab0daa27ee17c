"""Rule-engine evaluations per second, and how long a 1,000-rule pack takes to load.

    python bench/engine.py [--quick] [--seconds S] [--write-pack DIR]

(a) the default pack (load_ruleset("rules")) over a mix of normalized events built from
    the payload files (tests/payloads/zendesk and /work/shared/fixtures/real), each
    normalized once up front; only `plan(event, ruleset, now)` is timed, with a fixed `now`.
    Two variants: cycling over the events as they are (their texts repeat, so
    integration.core.matching.text's fold cache hits), and over distinct copies whose texts all differ
    (what a real stream of tickets looks like to that cache).
(a') the default pack again, its `words` lists read as `stems`, then as `fuzzy`.
(b) a generated pack of 1,000 rules (`generate_pack`), loaded with load_sources, over the
    same events.
(c) that pack's load time: parse + validate + compile (what `dispute-desk rules check`
    does), in process, and the `dispute-desk rules check DIR` command once, start-up included.

Figures only: nothing here asserts a timing. The one assertion is a correctness check:
the generated pack must load with no problems.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.zendesk import NotATicketEvent, normalize
from integration.core.engine import plan
from integration.core.events import EventKind, TicketEvent
from integration.core.rules.loader import load_sources
from integration.core.ruleset import RuleSet
from integration.core.syntax import nodes
from integration.core.syntax.nodes import parse
from integration.runtime.rulefiles import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ROOT / "tests" / "payloads" / "zendesk"
REAL = ROOT.parent / "shared" / "fixtures" / "real"
NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)  # a Tuesday, 12:00 in São Paulo


# ---- events ------------------------------------------------------------------------------


def load_events() -> tuple[list[tuple[str, TicketEvent]], list[str]]:
    """Every Zendesk ticket event among the payload files, normalized once; plus what was skipped.

    Two more are derived from the first `created` event, as the worker would see them:
    a `deadline_breached` (the clock) and a `feedback_received` (the feedback page).
    """
    events: list[tuple[str, TicketEvent]] = []
    skipped: list[str] = []
    files = sorted(PAYLOADS.glob("*.json")) + sorted(REAL.glob("zendesk_*.json"))
    for path in files:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            event = normalize(payload, {"X-Zendesk-Webhook-Invocation-Id": f"bench-{path.stem}"})
        except (OSError, ValueError, NotATicketEvent) as error:
            skipped.append(f"{path.name} ({type(error).__name__})")
            continue
        events.append((path.stem, event))
    created = next((event for _, event in events if EventKind.CREATED in event.kinds), None)
    if created is not None:
        tags = tuple(dict.fromkeys((*created.tags, "dispute", "dispute-finance")))
        events.append(("derived: deadline_breached first-response", dataclasses.replace(
            created, kinds=frozenset({EventKind.DEADLINE_BREACHED}), delivery_id="bench-breach", tags=tags,
            status="open", deadline="first-response", deadline_due_at=NOW - timedelta(hours=3))))
        events.append(("derived: feedback_received rating 2", dataclasses.replace(
            created, kinds=frozenset({EventKind.FEEDBACK_RECEIVED}), delivery_id="bench-feedback", tags=tags,
            status="solved", rating=2, feedback_comment="Still waiting for the refund.")))
    if not events:
        raise SystemExit(f"no ticket events could be normalized from {PAYLOADS} or {REAL}")
    return events, skipped


def distinct_copies(events: list[TicketEvent], count: int) -> list[TicketEvent]:
    """`count` events cycling over `events`, each with a text no other copy has."""
    copies = []
    for n in range(count):
        event = events[n % len(events)]
        suffix = f"\n(ref {n:06d})"
        if event.comment is not None:
            copies.append(dataclasses.replace(event, comment=dataclasses.replace(event.comment, body=event.comment.body + suffix)))
        else:
            copies.append(dataclasses.replace(event, description=event.description + suffix))
    return copies


def word_lists_as(operator: str) -> RuleSet:
    """The default pack, with `words:` replaced by another text operator (`stems`, `fuzzy`)."""
    sources = {path.name: path.read_text(encoding="utf-8").replace("words:", f"{operator}:") for path in sorted((ROOT / "rules").glob("*.yaml"))}
    ruleset, problems = load_sources(sources)
    assert ruleset is not None and not problems, [str(problem) for problem in problems]
    return ruleset


# ---- the generated pack ----------------------------------------------------------------------

# Words and phrases customers write (en / pt / es), by topic, so generated rules read like
# real ones and some of them match the fixture texts.
VOCABULARY: dict[str, list[str]] = {
    "billing": [
        "refund", "refunds", "chargeback", "invoice", "billing", "charged twice", "double charge",
        "overcharged", "payment", "credit card", "late fee", "money back", "subscription",
        "reembolso", "estorno", "cobrança", "cobrado duas vezes", "cobrança em duplicidade",
        "fatura", "boleto", "pagamento", "cartão de crédito", "assinatura", "cobro", "cobro doble",
        "factura", "facturación", "pago", "tarjeta de crédito", "suscripción", "me cobraron dos veces",
    ],
    "delivery": [
        "delivery", "not delivered", "never arrived", "tracking", "tracking number", "package",
        "parcel", "courier", "carrier", "return label", "wrong item", "damaged in transit",
        "entrega", "não chegou", "rastreio", "transportadora", "correios", "frete", "devolução",
        "produto errado", "envío", "no llegó", "paquete", "transportista", "número de seguimiento",
    ],
    "technical": [
        "bug", "error", "crash", "crashes", "not working", "stopped working", "broken", "outage",
        "blank screen", "can't log in", "data loss", "glitch", "erro", "falha", "não funciona",
        "travando", "fora do ar", "tela branca", "no funciona", "se cuelga", "fallo", "pantalla en blanco",
    ],
    "legal": [
        "lawyer", "attorney", "lawsuit", "legal action", "small claims", "consumer protection",
        "contract", "terms of service", "gdpr", "advogado", "procon", "ação judicial", "processo judicial",
        "juizado", "danos morais", "contrato", "lgpd", "abogado", "demanda judicial", "profeco", "denuncia",
    ],
    "product": [
        "feature request", "missing feature", "roadmap", "please add", "not supported",
        "would be nice", "funcionalidade", "sugestão", "não suporta", "funcionalidad", "sugerencia",
        "no permite", "hoja de ruta",
    ],
    "sentiment": [
        "complaint", "unacceptable", "dissatisfied", "unhappy", "very disappointed", "worst service",
        "scam", "fraud", "reclamação", "absurdo", "descaso", "péssimo atendimento", "golpe",
        "queja", "reclamo", "inaceptable", "pésimo servicio", "estafa", "una vergüenza",
    ],
    "account": [
        "account", "password", "login", "two-factor", "locked out", "cancel my account", "cancel",
        "conta", "senha", "cancelar", "cancelamento", "cuenta", "contraseña", "cancelación",
    ],
}
ALL_WORDS = sorted({word for words in VOCABULARY.values() for word in words})
REGEXES = [
    r"(?i)\border\s*#?\d{3,}",
    r"(?i)\bpedido\s*(?:n[º°o]\.?\s*)?\d{3,}",
    r"R\$\s*\d+(?:[.,]\d{2})?",
    r"\$\s*\d+(?:\.\d{2})?",
    r"(?i)\bcart(?:ão|ao)\s+final\s+\d{4}\b",
    r"(?i)\b(?:INV|NF)-?\d{4,}\b",
    r"(?i)\bticket\s*#\d+",
    r"\b\d{2}/\d{2}/\d{4}\b",
]
DEPARTMENTS = {
    "billing": ("Billing", "Cobrança", "Facturación", 360000100001),
    "logistics": ("Logistics", "Logística", "Logística", 360000100002),
    "engineering": ("Engineering", "Engenharia", "Ingeniería", 360000100003),
    "legal": ("Legal", "Jurídico", "Legal", 360000100004),
    "product": ("Product", "Produto", "Producto", 360000100005),
}
TOPIC_DEPARTMENT = {"billing": "billing", "delivery": "logistics", "technical": "engineering", "legal": "legal",
                    "product": "product", "sentiment": None, "account": None}
TEMPLATES = {
    "routed": (
        'Routed to {{ department.title }} by rule "{{ rule.id }}" (ticket #{{ ticket.id }}).',
        'Encaminhado para {{ department.title }} pela regra "{{ rule.id }}" (ticket #{{ ticket.id }}).',
        'Derivado a {{ department.title }} por la regla "{{ rule.id }}" (ticket #{{ ticket.id }}).',
    ),
    "heads-up": (
        "Heads-up for {{ requester.name }}'s ticket \"{{ ticket.subject }}\" ({{ ticket.priority or 'no priority' }}).",
        "Atenção ao ticket de {{ requester.name }}: \"{{ ticket.subject }}\" ({{ ticket.priority or 'sem prioridade' }}).",
        "Atención al ticket de {{ requester.name }}: \"{{ ticket.subject }}\" ({{ ticket.priority or 'sin prioridad' }}).",
    ),
    "matched": (
        "Rule {{ rule.id }} matched on {{ ticket.platform }} ticket {{ ticket.id }} in {{ language }}.",
        "A regra {{ rule.id }} se aplicou ao ticket {{ ticket.id }} ({{ ticket.platform }}, {{ language }}).",
        "La regla {{ rule.id }} se aplicó al ticket {{ ticket.id }} ({{ ticket.platform }}, {{ language }}).",
    ),
    "status": (
        "Status {{ ticket.status or 'unknown' }}{% if department.title %}, owned by {{ department.title }}{% endif %}.",
        "Status {{ ticket.status or 'desconhecido' }}{% if department.title %}, com {{ department.title }}{% endif %}.",
        "Estado {{ ticket.status or 'desconocido' }}{% if department.title %}, en {{ department.title }}{% endif %}.",
    ),
}
ON_CHOICES = ["created", "comment_added", "updated", "status_changed", "tags_changed", "priority_changed", "assignee_changed"]
ON_WEIGHTS = [30, 30, 15, 8, 7, 5, 5]
TAG_POOL = ["vip", "enterprise", "dispute", "urgent-review", "billing-hold", "refund-pending", "sla-gold",
            "sla-silver", "returning-customer", "escalated", "social", "legal-hold", "beta"]


def q(value: Any) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def flow(values: list[Any]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def generate_pack(rule_count: int = 1000, seed: int = 20250304) -> str:
    """One YAML file: settings, departments, templates and `rule_count` varied rules."""
    rng = random.Random(seed)
    out = ["# generated by bench/engine.py: generate_pack()", "version: 1", "", "departments:"]
    for ident, (en, pt, es, group) in DEPARTMENTS.items():
        out.append(f"  {ident}:")
        out.append(f"    title: {{en: {q(en)}, pt: {q(pt)}, es: {q(es)}}}")
        out.append(f"    zendesk: {{group_id: {group}}}")
        out.append(f"    jira: {{component: {q(en)}, labels: [{q('dept-' + ident)}]}}")
    out += ["", "templates:"]
    for ident, (en, pt, es) in TEMPLATES.items():
        out += [f"  {ident}:", f"    en: {q(en)}", f"    pt: {q(pt)}", f"    es: {q(es)}"]
    out += ["", "rules:"]
    topics = list(VOCABULARY)
    for n in range(rule_count):
        topic = rng.choice(topics)
        out += _rule(rng, n, topic)
    return "\n".join(out) + "\n"


def _words(rng: random.Random, topic: str) -> list[str]:
    """5-20 words, mostly from the rule's topic, a few from anywhere."""
    size = rng.randint(5, 20)
    own = VOCABULARY[topic]
    chosen = rng.sample(own, min(len(own), max(3, size - rng.randint(0, 4))))
    while len(chosen) < size:
        word = rng.choice(ALL_WORDS)
        if word not in chosen:
            chosen.append(word)
    return chosen


def _text_field(rng: random.Random) -> str:
    return rng.choices(["text", "subject", "description", "comment"], [70, 10, 10, 10])[0]


def _rule(rng: random.Random, n: int, topic: str) -> list[str]:
    lines = [f"  - id: gen-{topic}-{n:04d}", f"    description: {q(f'Generated {topic} rule {n}.')}"]
    on = sorted(set(rng.choices(ON_CHOICES, ON_WEIGHTS, k=rng.randint(1, 3))), key=ON_CHOICES.index)
    lines.append(f"    on: [{', '.join(on)}]")

    all_: list[str] = []
    if rng.random() < 0.85:
        all_.append(f"{{{_text_field(rng)}: {{words: {flow(_words(rng, topic))}}}}}")
    if rng.random() < 0.6:
        all_.append("{status: {not_in: [solved, closed]}}")
    if rng.random() < 0.2:
        all_.append(f"{{priority: {{in: {flow(rng.sample(['low', 'normal', 'high', 'urgent'], rng.randint(1, 3)))}}}}}")
    if rng.random() < 0.15:
        all_.append(f"{{channel: {{in: {flow(rng.sample(['email', 'web', 'chat', 'phone', 'api', 'social'], rng.randint(1, 3)))}}}}}")
    if rng.random() < 0.15:
        all_.append(f"{{{rng.choice(['text', 'subject', 'description'])}: {{matches: {q(rng.choice(REGEXES))}}}}}")
    if rng.random() < 0.2:
        all_.append(f"{{tags: {{contains_any: {flow(rng.sample(TAG_POOL, rng.randint(1, 3)))}}}}}")
    if rng.random() < 0.1:
        all_.append(f"{{comment_public: {{is: {rng.choice(['true', 'false'])}}}}}")
    any_: list[str] = []
    if rng.random() < 0.25:
        any_.append(f"{{tags: {{contains: {q(rng.choice(TAG_POOL))}}}}}")
        any_.append(f"{{priority: {{is: {rng.choice(['high', 'urgent'])}}}}}")
        if rng.random() < 0.5:
            other = rng.choice(list(VOCABULARY))
            any_.append(f"{{text: {{words: {flow(_words(rng, other))}}}}}")
        if rng.random() < 0.3:
            any_.append(f"{{all: [{{language: {rng.choice(['en', 'pt', 'es'])}}}, {{comment_by: {{is: customer}}}}]}}")
    none: list[str] = []
    if rng.random() < 0.35:
        none.append(f"{{tags: {{contains_any: {flow([f'gen-{topic}-done', rng.choice(TAG_POOL)])}}}}}")
        if rng.random() < 0.6:
            none.append("{comment_by: {is: agent}}")
        if rng.random() < 0.3:
            none.append(f"{{text: {{words: {flow(_words(rng, rng.choice(list(VOCABULARY))))}}}}}")
    if not (all_ or any_ or none):
        all_.append("{status: {not_in: [solved, closed]}}")
    lines.append("    if:")
    for key, items in (("all", all_), ("any", any_), ("none", none)):
        if items:
            lines.append(f"      {key}:")
            lines += [f"        - {item}" for item in items]

    lines.append("    then:")
    lines.append(f"      add_tags: {flow([f'gen-{topic}', f'gen-{n:04d}'])}")
    if rng.random() < 0.4:
        lines.append(f"      priority: {{at_least: {rng.choice(['normal', 'high', 'urgent'])}}}")
    department = TOPIC_DEPARTMENT[topic]
    if department and rng.random() < 0.3:
        lines.append(f"      route: {department}")
    if rng.random() < 0.2:
        lines.append(f"      note: {rng.choice(list(TEMPLATES))}")
    return lines


# ---- measuring -------------------------------------------------------------------------------


@dataclasses.dataclass
class Figure:
    label: str
    evaluations: int
    seconds: float
    matched: float  # mean rules matched per evaluation
    listened: float  # mean rules that listened to the event kind

    @property
    def per_second(self) -> float:
        return self.evaluations / self.seconds

    @property
    def mean_us(self) -> float:
        return self.seconds / self.evaluations * 1e6


def evaluate(label: str, events: list[TicketEvent], ruleset: RuleSet, seconds: float, max_evaluations: int) -> Figure:
    """plan() over `events` in turn, for `seconds` or `max_evaluations`, whichever ends first."""
    for event in events[: min(len(events), 64)]:  # warm up: first-sight caches, regex compilation
        plan(event, ruleset, NOW)
    count, total = len(events), 0
    started = time.perf_counter()
    deadline = started + seconds
    while total < max_evaluations:
        for i in range(min(64, max_evaluations - total)):  # check the clock every 64 evaluations
            plan(events[(total + i) % count], ruleset, NOW)
        total += min(64, max_evaluations - total)
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - started
    # Matches are deterministic per event, and each event had the same share (+-1) of the
    # evaluations: count them once per event, outside the timed loop.
    plans = [plan(event, ruleset, NOW) for event in events[: min(total, count)]]
    matched = sum(sum(t.matched for t in p.traces) for p in plans)
    listened = sum(sum(t.listened for t in p.traces) for p in plans)
    seen = len(plans)
    return Figure(label, total, elapsed, matched / seen, listened / seen)


def print_figures(title: str, figures: list[Figure]) -> None:
    print(title)
    print(f"  {'':52} {'evals':>8} {'evals/s':>9} {'mean µs':>9} {'matched':>8} {'listened':>9}")
    for f in figures:
        print(f"  {f.label:52} {f.evaluations:8d} {f.per_second:9.0f} {f.mean_us:9.1f} {f.matched:8.2f} {f.listened:9.1f}")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (about a tenth of the time)")
    parser.add_argument("--seconds", type=float, help="seconds per measured mix (default 4, --quick 0.5)")
    parser.add_argument("--rules", type=int, default=1000, help="rules in the generated pack (default 1000)")
    parser.add_argument("--write-pack", metavar="DIR", help="also write the generated pack to DIR/generated.yaml")
    args = parser.parse_args()
    seconds = args.seconds or (0.5 if args.quick else 4.0)
    per_event_seconds = 0.05 if args.quick else 0.25
    load_repeats = 1 if args.quick else 3
    max_evaluations = 2_000_000
    if not 0 < seconds <= 60 or not 1 <= args.rules <= 20000:
        parser.error("--seconds must be in (0, 60], --rules in [1, 20000]")

    named, skipped = load_events()
    events = [event for _, event in named]
    copies = distinct_copies(events, 1024)  # more distinct texts than fold()'s cache holds (32)
    print(f"engine benchmark: {len(events)} events ({len(named) - 2} normalized from payload files, 2 derived); now = {NOW.isoformat()}")
    if skipped:
        print(f"  skipped (not Zendesk ticket events): {', '.join(skipped)}")

    # (a) the default pack
    started = time.perf_counter()
    default = load_ruleset(ROOT / "rules")
    default_load = time.perf_counter() - started
    print(f"\n(a) default pack: {len(default.rules)} rules from {ROOT / 'rules'} (first load {default_load * 1000:.0f} ms, imports included)")
    figures = [
        evaluate("event mix, texts repeat (fold cache warm)", events, default, seconds, max_evaluations),
        evaluate("event mix, 1,024 distinct texts (cache cold)", copies, default, seconds, max_evaluations),
    ]
    print_figures("", figures)
    print("  per event (texts repeat):")
    for name, event in named:
        f = evaluate(name[:50], [event], default, per_event_seconds, max_evaluations)
        kinds = ",".join(sorted(k.value for k in event.kinds))
        print(f"    {name[:50]:50} {f.mean_us:8.1f} µs  matched {f.matched:2.0f}  [{kinds}]")

    # (a') the same pack with its word lists read in every form: what the word-form operators cost
    for operator in ("stems", "fuzzy"):
        variant = word_lists_as(operator)
        print(f"\n(a') default pack with every `words` list read as `{operator}`:")
        print_figures("", [
            evaluate("event mix, texts repeat (fold cache warm)", events, variant, seconds, max_evaluations),
            evaluate("event mix, 1,024 distinct texts (cache cold)", copies, variant, seconds, max_evaluations),
        ])

    # (b) + (c) the generated pack
    started = time.perf_counter()
    text = generate_pack(args.rules)
    generated_in = time.perf_counter() - started
    sources = {"generated.yaml": text}
    load_times, (pack, problems) = timed(lambda: load_sources(sources), load_repeats)
    assert not problems and pack is not None, "generated pack has problems:\n" + "\n".join(map(str, problems[:20]))
    assert len(pack.rules) == args.rules
    parse_times, _ = timed(lambda: parse(text, "generated.yaml"), load_repeats)
    gc.disable()
    try:
        gc_off = timed(lambda: load_sources(sources), 1)[0][0]
    finally:
        gc.enable()
    conditions = (text.count("words:"), text.count("matches:"), len(re.findall(r"^\s+any:$|\{any: ", text, re.MULTILINE)),
                  len(re.findall(r"^\s+none:$", text, re.MULTILINE)))
    print(f"\n(b) generated pack: {len(pack.rules)} rules, {len(text) / 1024:.0f} KiB of YAML, {text.count(chr(10))} lines "
          f"(generated in {generated_in * 1000:.0f} ms); {conditions[0]} words lists, {conditions[1]} regexes, "
          f"{conditions[2]} any groups, {conditions[3]} none groups; loads with no problems")
    figures = [
        evaluate("event mix, texts repeat (fold cache warm)", events, pack, seconds, max_evaluations),
        evaluate("event mix, 1,024 distinct texts (cache cold)", copies, pack, seconds, max_evaluations),
    ]
    print_figures("", figures)

    print(f"\n(c) generated pack load time (load_sources: parse, validate, compile, test-render), {load_repeats} run(s):")
    print(f"    load_sources: mean {statistics.mean(load_times) * 1000:.0f} ms, min {min(load_times) * 1000:.0f} ms "
          f"({min(load_times) / args.rules * 1e6:.0f} µs per rule); each run: {', '.join(f'{t * 1000:.0f}' for t in load_times)} ms")
    print(f"    of which YAML parse (integration.core.syntax.nodes.parse) alone: min {min(parse_times) * 1000:.0f} ms; "
          f"with the cyclic GC off: load_sources {gc_off * 1000:.0f} ms")
    retained = getattr(getattr(nodes, "_SCALARS", None), "constructed_objects", None)
    if retained is not None:
        print(f"    YAML scalar nodes still held by integration.core.syntax.nodes._SCALARS after this process's loads: {len(retained):,} "
              "(it only grows: each load keeps every scalar node alive, so later loads and GC passes get slower)")
    tmp = Path(tempfile.mkdtemp(prefix="dd-bench-engine-"))
    try:
        (tmp / "generated.yaml").write_text(text, encoding="utf-8")
        cli = Path(sys.executable).parent / "dispute-desk"
        if cli.exists():
            started = time.perf_counter()
            done = subprocess.run([str(cli), "rules", "check", str(tmp)], check=False, capture_output=True, text=True, timeout=120)
            wall = time.perf_counter() - started
            said = (done.stdout.strip() or done.stderr.strip()).splitlines()
            print(f"    `dispute-desk rules check DIR` (process start-up included): {wall * 1000:.0f} ms, exit {done.returncode}: "
                  f"{said[-1] if said else ''}")
        else:
            print(f"    (no dispute-desk console script beside {sys.executable}; CLI timing skipped)")
        if args.write_pack:
            Path(args.write_pack).mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp / "generated.yaml", Path(args.write_pack) / "generated.yaml")
            print(f"    pack written to {Path(args.write_pack) / 'generated.yaml'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
