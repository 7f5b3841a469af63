"""Scoring as a person follows it in a terminal: one result, or a batch's progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

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


@contextmanager
def batch_progress(quiet: bool, console: Console | None = None) -> Iterator[Callable[[Any], None] | None]:
    """A progress bar with rows/second and ETA on stderr, updated per chunk; nothing when ``quiet``."""
    if quiet:
        yield None
        return
    columns = (
        TextColumn("scoring"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows · {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True), transient=False) as bar:
        task = bar.add_task("scoring", total=None, rows=0, rate=0.0)

        def update(progress: Any) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = progress.rows / elapsed if elapsed > 0 else 0.0
            bar.update(task, total=progress.size, completed=progress.position, rows=progress.rows, rate=rate)

        yield update
