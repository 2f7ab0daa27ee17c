"""The issue's probes through `dispute-desk explain --json` with the default pack: the ordinary
questions it flagged, the disputes it missed, and the French press it sent to management.

Each probe is the customer's whole message on a new web ticket (as `rules evaluate` plans it);
where the issue quoted a single word ("extorno", "Reclame-Aqui", "charge back"), it is put in a
short sentence a customer would write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import main

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CREATED = ROOT / "tests" / "payloads" / "zendesk" / "ticket_created_pt_billing.json"
NOW = "2025-03-04T15:00:00Z"
ORDINARY = None  # not a dispute: no `dispute` tag, no department


def explain(tmp_path: Path, text: str, channel: str = "web") -> dict:
    payload = json.loads(CREATED.read_text(encoding="utf-8"))
    payload["detail"].update(description=text, subject="", via={"channel": channel})
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(payload), encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(event_file), "--rules", str(RULES), "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def outcome(plan: dict) -> str | None:
    """The department, `-` for a dispute routed nowhere, None for an ordinary message."""
    flagged = "dispute" in plan["add_tags"] or plan["department"] is not None
    return (plan["department"] or "-") if flagged else ORDINARY


@pytest.mark.parametrize(
    "text, expected",
    [
        # false alarms of the old pack: questions and praise that mention a topic
        ("Vocês aceitam pagamento no boleto?", ORDINARY),
        ("¿Aceptan pago con PayPal?", ORDINARY),
        ("Can you resend the invoice?", ORDINARY),
        ("a entrega foi super rápida!", ORDINARY),
        # disputes the old pack missed
        ("app bugado, fecha sozinho", "engineering"),
        ("me habéis cobrado dos veces", "finance"),
        ("fix your app it won't even open", "engineering"),
        ("I've already disputed it with my bank", "finance"),
        ("Posting this all over Reddit and X", "marketing"),
        ("Why did you remove dark mode??", "product"),
        ("dados vazaram", "management"),
        ("hackearon su sistema", "management"),
        ("Até hoje nada do extorno", "finance"),
        ("Vou registrar no Reclame-Aqui", "marketing"),
        ("I will do a charge back with my card", "finance"),
        # a French press is not the press
        ("Compré una prensa francesa y llegó rota", "logistics"),
    ],
)
def test_the_issue_probes_get_the_expected_outcome(tmp_path: Path, text: str, expected: str | None) -> None:
    assert outcome(explain(tmp_path, text)) == expected


def test_an_ordinary_question_on_chat_gets_no_public_acknowledgement(tmp_path: Path) -> None:
    plan = explain(tmp_path, "¿Aceptan pago con PayPal?", channel="chat")
    assert "dispute-acknowledgement" not in plan["matched_rules"]
    assert outcome(plan) is ORDINARY
