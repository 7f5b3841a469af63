"""Scoring as a person follows it in a terminal: one result, or a batch's progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from adscreen.localized import UI_LANGUAGES
from adscreen.ui import is_very_high, shown_percent

BAND_STYLE = {"high": "bold white on red", "medium": "bold black on yellow", "low": "bold white on green"}


def _quote(text: str, spans: list[list[int]], limit: int = 3) -> str:
    return ", ".join(f"“{escape(text[start:end])}”" for start, end in spans[:limit])


def _heading(console: Console, words: str) -> None:
    console.print(f"\n[bold]{escape(words)}[/]")


def render_result(
    console: Console, text: str, result: dict, strings: dict[str, str], country_names: dict[str, str]
) -> None:
    """One result in one language: band, the risk as the web shows it (a percent never 0 or 100),
    red flags with the words they matched, the words the model weighed, what to do and where to get help.

    Every fixed phrase comes from ``strings`` (one language's ``data/ui`` file) and the result's own texts
    (flag titles and reasons, the guidance) were written in that language by the scorer, so one output
    speaks one language. Country names are in that language too; hotline names stay as their organisations
    write them.
    """
    band = result["band"]
    percent = strings["percent"].format(value=shown_percent(result["risk"]))
    risk = f"{strings['risk_very_high']} · {percent}" if is_very_high(result) else percent
    console.print(
        f"[{BAND_STYLE[band]}] {escape(strings['band_' + band])} [/] {escape(strings['risk_label'])}: {escape(risk)}"
    )
    console.print(f"[dim]{escape(strings['risk_meaning'].format(value=shown_percent(result['risk'])))}[/]")
    for caveat in result.get("caveats", []):
        console.print(f"[yellow]{escape(caveat['message'])}[/]")
    indicators = result.get("indicators")
    if indicators:
        console.print(escape(strings["indicators"].format(count=indicators["count"], of=indicators["of"])))
    if result["language"] in UI_LANGUAGES:  # "other" is an English word, not a language to name
        console.print(f"[dim]{escape(strings['ad_language'].format(language=result['language']))}[/]")
    # As on the web, a low band is explained first by the signs that lower the risk.
    sections = (_render_lowering, _render_warnings) if band == "low" else (_render_warnings, _render_lowering)
    for section in sections:
        section(console, text, result, strings)
    raising = [term for term in result["top_terms"] if term["weight"] > 0]
    lowering = [term for term in result["top_terms"] if term["weight"] < 0]
    if raising or lowering:
        _heading(console, strings["terms"])
        for term in raising:
            console.print(f"  [red]+{term['weight']:.2f}[/] {escape(term['term'])}")
        for term in lowering:
            console.print(f"  [green]{term['weight']:.2f}[/] {escape(term['term'])}")
    guidance = result["guidance"]
    _heading(console, strings["what_to_do"])
    console.print(f"  {escape(guidance['message'])}")
    for step in guidance.get("steps", []):
        console.print(f"  - {escape(step)}")
    _render_help(console, guidance, strings, country_names)


def _render_warnings(console: Console, text: str, result: dict, strings: dict[str, str]) -> None:
    """Every red flag with how strong a sign it is, the words it matched and why it matters."""
    _heading(console, strings["red_flags"])
    if not result["red_flags"]:
        console.print(f"  {escape(strings['no_flags'])}")
    for flag in result["red_flags"]:
        severity = strings["severity_" + flag["severity"]]
        console.print(f"  [red]●[/] {escape(flag['title'])} ({escape(severity)}): {_quote(text, flag['spans'])}")
        console.print(f"    [dim]{escape(flag['why'])}[/]")


def _render_lowering(console: Console, text: str, result: dict, strings: dict[str, str]) -> None:
    """The signs that lower the risk, with the words they matched; nothing when there are none."""
    if result.get("risk_lowering"):
        _heading(console, strings["risk_lowering"])
        for flag in result["risk_lowering"]:
            console.print(f"  [green]●[/] {escape(flag['title'])}: {_quote(text, flag['spans'])}")


def _render_help(console: Console, guidance: dict, strings: dict[str, str], country_names: dict[str, str]) -> None:
    """The help lines, each under its country's name, then the emergency number and where the numbers come from."""
    _heading(console, strings["help"])
    if guidance.get("destination_note"):
        console.print(f"  {escape(guidance['destination_note'])}")
    for line in guidance.get("hotlines", []):
        contact = " · ".join(
            part
            for part in (
                line.get("phone") and f"{strings['call']} {line['phone']}",
                line.get("sms") and f"{strings['text_us']} {line['sms']}",
                line.get("url"),
            )
            if part
        )
        where = country_names.get(line.get("country") or "")
        console.print(f"  {escape(where + ' · ') if where else ''}{escape(line['name'])}: {escape(contact)}")
    console.print(f"  {escape(strings['emergency'])}: {escape(str(guidance.get('emergency')))}")
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
    # Redrawn per chunk, not by rich's refresh thread: score-file forks its workers only from a process
    # with one thread (``batch.files._worker_pool``).
    with Progress(*columns, console=console or Console(stderr=True), transient=False, auto_refresh=False) as bar:
        task = bar.add_task("scoring", total=None, rows=0, rate=0.0)

        def update(progress: Any) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = progress.rows / elapsed if elapsed > 0 else 0.0
            bar.update(
                task, total=progress.size, completed=progress.position, rows=progress.rows, rate=rate, refresh=True
            )

        yield update
