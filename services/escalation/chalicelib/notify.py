"""Telling people a conversation needs them: the `human-agents` SNS topic and an SES e-mail.

The SNS message carries attributes (team, language, priority, reason, audience) so a subscription
can filter (a team's pager, the supervisors' channel). The e-mail has an HTML and a plain-text
part: reason, customer, summary, the last messages (unless the hand-off forbids quoting them, as a
self-harm one does) and a link to the console.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from chalicelib.handoffs.models import Handoff
from parley import aws
from parley.errors import DependencyError

Audience = Literal["agents", "supervisors"]
NO_QUOTE = "(not quoted: sensitive conversation; open it in the console)"


class AgentNotifier(Protocol):
    def notify(self, handoff: Handoff, last_messages: Sequence[str], audience: Audience) -> None:
        """Tell the team (or the supervisors) about `handoff`."""


@dataclass(frozen=True)
class Recipients:
    email_from: str
    team_emails: dict[str, list[str]]
    supervisor_emails: list[str]
    console_url: str

    def emails(self, handoff: Handoff, audience: Audience) -> list[str]:
        if audience == "supervisors":
            return self.supervisor_emails
        return self.team_emails.get(handoff.team) or self.team_emails.get("default", [])


def customer_label(handoff: Handoff) -> str:
    """The customer as agents see them in a notification: the last four digits only."""
    return f"WhatsApp customer …{handoff.wa_id[-4:]}"


def subject(handoff: Handoff, audience: Audience) -> str:
    lead = "Unclaimed hand-off" if audience == "supervisors" else "Customer needs a person"
    urgent = "[URGENT] " if handoff.priority == "urgent" else ""
    return f"{urgent}{lead}: {handoff.reason.replace('_', ' ')} ({handoff.team})"


def quoted(handoff: Handoff, last_messages: Sequence[str]) -> list[str]:
    return list(last_messages[-5:]) if handoff.quote_allowed else [NO_QUOTE]


def text_body(handoff: Handoff, last_messages: Sequence[str], link: str) -> str:
    lines = [
        f"Reason: {handoff.reason.replace('_', ' ')}"
        + (f" ({handoff.topic})" if handoff.topic else ""),
        f"Priority: {handoff.priority}",
        f"Customer: {customer_label(handoff)} (language: {handoff.language})",
        f"Summary: {handoff.summary or '-'}" if handoff.quote_allowed else "Summary: -",
        "",
        "Last messages:",
        *(f"  > {m}" for m in quoted(handoff, last_messages)),
        "",
        f"Open the console: {link}",
    ]
    return "\n".join(lines)


def html_body(handoff: Handoff, last_messages: Sequence[str], link: str) -> str:
    esc = html.escape
    items = "".join(f"<li>{esc(m)}</li>" for m in quoted(handoff, last_messages))
    summary = esc(handoff.summary or "-") if handoff.quote_allowed else "-"
    return (
        "<html><body>"
        f"<h2>{esc(subject(handoff, 'agents'))}</h2>"
        f"<p><b>Reason:</b> {esc(handoff.reason.replace('_', ' '))}"
        + (f" ({esc(handoff.topic)})" if handoff.topic else "")
        + f"<br><b>Priority:</b> {esc(handoff.priority)}"
        f"<br><b>Customer:</b> {esc(customer_label(handoff))} ({esc(handoff.language)})"
        f"<br><b>Summary:</b> {summary}</p>"
        f"<p><b>Last messages</b></p><ul>{items}</ul>"
        f'<p><a href="{esc(link, quote=True)}">Open the conversation in the console</a></p>'
        "</body></html>"
    )


class AwsAgentNotifier:
    """`AgentNotifier` over SNS and SES (the same APIs on the local emulator)."""

    def __init__(self, topic: str, recipients: Recipients) -> None:
        self._topic = topic
        self._recipients = recipients

    def notify(self, handoff: Handoff, last_messages: Sequence[str], audience: Audience) -> None:
        link = f"{self._recipients.console_url.rstrip('/')}/console#{handoff.handoff_id}"
        self._publish(handoff, audience, link)
        emails = self._recipients.emails(handoff, audience)
        if emails:
            self._email(handoff, last_messages, audience, emails, link)

    def _publish(self, handoff: Handoff, audience: Audience, link: str) -> None:
        message = {
            "handoff_id": handoff.handoff_id,
            "reason": handoff.reason,
            "topic": handoff.topic,
            "priority": handoff.priority,
            "team": handoff.team,
            "language": handoff.language,
            "customer": customer_label(handoff),
            "summary": handoff.summary if handoff.quote_allowed else None,
            "console": link,
            "audience": audience,
        }
        attributes = {
            name: {"DataType": "String", "StringValue": str(value)}
            for name, value in (
                ("team", handoff.team),
                ("language", handoff.language),
                ("priority", handoff.priority),
                ("reason", handoff.reason),
                ("audience", audience),
            )
        }
        try:
            aws.client("sns").publish(
                TopicArn=aws.topic_arn(self._topic),
                Subject=subject(handoff, audience)[:99],
                Message=json.dumps(message),
                MessageAttributes=attributes,
            )
        except Exception as error:
            raise DependencyError(f"human-agents notification failed: {error}") from error

    def _email(
        self,
        handoff: Handoff,
        last_messages: Sequence[str],
        audience: Audience,
        to: list[str],
        link: str,
    ) -> None:
        body: dict[str, Any] = {
            "Text": {"Data": text_body(handoff, last_messages, link), "Charset": "UTF-8"},
            "Html": {"Data": html_body(handoff, last_messages, link), "Charset": "UTF-8"},
        }
        try:
            aws.client("ses").send_email(
                Source=self._recipients.email_from,
                Destination={"ToAddresses": to},
                Message={"Subject": {"Data": subject(handoff, audience)}, "Body": body},
            )
        except Exception as error:
            raise DependencyError(f"hand-off e-mail failed: {error}") from error
