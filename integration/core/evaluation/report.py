"""An evaluation report as text (for people) and as a dict (for scripts, `--json`)."""

from __future__ import annotations

from typing import Any

from integration.core.evaluation.scoring import (
    ALL,
    FALSE_ALARM,
    MISS_KINDS,
    MISSED,
    NO_DEPARTMENT,
    Miss,
    Report,
    Tally,
)
from integration.core.evaluation.verdicts import FLAGGED_MEANS

TEXT_SHOWN = 200  # characters of a message in the text report (the JSON has it whole)


def as_text(report: Report) -> str:
    lines = [f"flagged as a dispute: {FLAGGED_MEANS}", "", *_figures(report)]
    for language, tally in report.languages.items():
        if language != ALL and tally.confusion:
            lines += ["", *_confusion(language, tally)]
    lines += ["", *_misses(report.misses)]
    return "\n".join(lines)


def _figures(report: Report) -> list[str]:
    lines = [f"{'language':<9} {'messages':>8}   {'recall':<17} {'ordinary flagged':<17} {'department accuracy'}"]
    for language, t in report.languages.items():
        figures = (_fraction(t.recall, t.recalled, t.disputes), _fraction(t.ordinary_flagged_rate, t.ordinary_flagged, t.ordinary),
                   _fraction(t.department_accuracy, t.department_right, t.recalled))
        lines.append(f"{language:<9} {t.messages:>8}   {figures[0]:<17} {figures[1]:<17} {figures[2]}".rstrip())
    lines.append("(recall: disputes flagged; department accuracy: among the flagged disputes, sent to the label's department or one of `also`)")
    return lines


def _fraction(rate: float | None, part: int, whole: int) -> str:
    return "-" if rate is None else f"{rate:6.1%} {part:>3}/{whole:<3}"


def _confusion(language: str, tally: Tally) -> list[str]:
    rows = sorted(tally.confusion, key=_last_if_none)
    columns = sorted({sent for counts in tally.confusion.values() for sent in counts} | set(rows), key=_last_if_none)
    width = max(len(name) for name in [*rows, *columns]) + 1
    lines = [
        f"departments, {language} (rows: the label; columns: where the rules sent the disputes they flagged; {NO_DEPARTMENT}: nowhere)",
        " " * (width + 2) + "".join(f"{name:>{width}}" for name in columns),
    ]
    for row in rows:
        counts = tally.confusion[row]
        lines.append(f"  {row:<{width}}" + "".join(f"{counts[c] or '.':>{width}}" for c in columns))
    return lines


def _last_if_none(name: str) -> tuple[bool, str]:
    return name == NO_DEPARTMENT, name


def _misses(misses: tuple[Miss, ...]) -> list[str]:
    counts = ", ".join(f"{sum(m.kind == kind for m in misses)} {kind}s" for kind in MISS_KINDS)
    lines = [f"misses ({len(misses)}: {counts}):"]
    for miss in misses:
        lines += [f"  [{miss.language}] {_headline(miss)}: {_shown(miss.message.text)}", *(f"        {cue}" for cue in _cues(miss))]
    return lines


def _headline(miss: Miss) -> str:
    message, verdict = miss.message, miss.verdict
    if miss.kind == FALSE_ALARM:
        return f"{miss.kind} {message.id}"
    expected = " or ".join([message.department or NO_DEPARTMENT, *message.also])
    if miss.kind == MISSED:
        return f"{miss.kind} {message.id} (expected {expected})"
    return f"{miss.kind} {message.id} (expected {expected}, sent to {verdict.department or 'no department'})"


def _cues(miss: Miss) -> list[str]:
    """Why the rules decided as they did, from the plan's traces."""
    verdict = miss.verdict
    if miss.kind == MISSED:
        if not verdict.matched:
            return ["no rule matched"]
        return ["matched, but none tagged it a dispute or routed it:", *(f"  {cue.describe()}" for cue in verdict.matched)]
    if miss.kind == FALSE_ALARM or verdict.routed_by is None:
        return [f"rule {cue.describe()}" for cue in verdict.matched]
    return [f"routed by rule {verdict.routed_by.describe()}"]


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= TEXT_SHOWN else flat[: TEXT_SHOWN - 1] + "…")


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "flagged_means": FLAGGED_MEANS,
        "languages": {language: _tally(tally) for language, tally in report.languages.items()},
        "misses": [_miss(miss) for miss in report.misses],
    }


def _tally(tally: Tally) -> dict[str, Any]:
    return {
        "messages": tally.messages,
        "disputes": tally.disputes,
        "disputes_flagged": tally.recalled,
        "recall": _rounded(tally.recall),
        "ordinary": tally.ordinary,
        "ordinary_flagged": tally.ordinary_flagged,
        "ordinary_flagged_rate": _rounded(tally.ordinary_flagged_rate),
        "department_right": tally.department_right,
        "department_accuracy": _rounded(tally.department_accuracy),
        "confusion": {label: dict(sorted(sent.items())) for label, sent in sorted(tally.confusion.items())},
    }


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def _miss(miss: Miss) -> dict[str, Any]:
    message, verdict = miss.message, miss.verdict
    return {
        "kind": miss.kind,
        "id": message.id,
        "language": miss.language,
        "text": message.text,
        "expected": message.department,
        "also": list(message.also),
        "department": verdict.department,
        "flagged": verdict.flagged,
        "routed_by": _cue(verdict.routed_by) if verdict.routed_by else None,
        "matched": [_cue(cue) for cue in verdict.matched],
        "cues": _cues(miss),
    }


def _cue(cue: Any) -> dict[str, Any]:
    return {"rule": cue.rule_id, "cues": list(cue.cues)}
