"""A scoring result as a person reads it in a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

BAND_STYLE = {"high": "bold white on red", "medium": "bold black on yellow", "low": "bold white on green"}


def _quote(text: str, spans: list[list[int]], limit: int = 3) -> str:
    return ", ".join(f"“{escape(text[start:end])}”" for start, end in spans[:limit])


def render_result(console: Console, text: str, result: dict) -> None:
    """Band, risk, red flags with the words they matched, top terms either way, and hotlines."""
    band = result["band"]
    console.print(
        f"[{BAND_STYLE[band]}] {band.upper()} RISK [/] risk {result['risk']:.2f} · {result['label']} · language {result['language']}"
    )
    if result["red_flags"]:
        console.print("\n[bold]Red flags[/]")
        for flag in result["red_flags"]:
            console.print(f"  [red]●[/] {escape(flag['title'])} ({flag['severity']}): {_quote(text, flag['spans'])}")
            console.print(f"    [dim]{escape(flag['why'])}[/]")
    if result.get("risk_lowering"):
        console.print("\n[bold]Signs that lower the risk[/]")
        for flag in result["risk_lowering"]:
            console.print(f"  [green]●[/] {escape(flag['title'])}: {_quote(text, flag['spans'])}")
    raising = [term for term in result["top_terms"] if term["weight"] > 0]
    lowering = [term for term in result["top_terms"] if term["weight"] < 0]
    if raising or lowering:
        console.print("\n[bold]Words the model weighed[/]")
        for term in raising:
            console.print(f"  [red]+{term['weight']:.2f}[/] {escape(term['term'])}")
        for term in lowering:
            console.print(f"  [green]{term['weight']:.2f}[/] {escape(term['term'])}")
    guidance = result["guidance"]
    console.print(f"\n[bold]What to do[/]\n  {escape(guidance['message'])}")
    for step in guidance.get("steps", []):
        console.print(f"  - {escape(step)}")
    if guidance.get("hotlines"):
        console.print("\n[bold]Where to get help[/]")
        for line in guidance["hotlines"]:
            contact = " · ".join(
                part
                for part in (
                    line.get("phone") and f"call {line['phone']}",
                    line.get("sms") and f"text {line['sms']}",
                    line.get("url"),
                )
                if part
            )
            where = f"[{line['country']}] " if line.get("country") else ""
            console.print(f"  {where}{escape(line['name'])}: {escape(contact)}")
    console.print(f"  Emergency: {escape(str(guidance.get('emergency')))}")
    console.print(f"[dim]{escape(guidance.get('source_note') or '')}[/]")
