"""Worst-case cost of scoring one ad: adversarial ads at the length limit, scored with the shipped model.

Regexes with nested or adjacent repeats can take time quadratic in the text on the
right input (a run of digits, of "⒛", which NFKC makes "20.", of currency signs, of
spaces, one long word, a pattern's start repeated without its end). Each ad here is
one such input, ``--chars`` long (default: the ad-length limit); the table shows the
time of ``Scorer.score`` (wall clock, and CPU time, which other processes on a shared
machine inflate less) and of its costliest steps (folding, red flags, contacts,
destinations) and the last line the worst ad. Target: under 0.5 s per ad on 2 cores.

A model keeps the red-flag patterns it was trained with, so a model trained before the
patterns were made linear stays slow: pass ``--model`` to time another model folder.

Usage: .venv/bin/python benchmarks/adversarial.py [--chars 20000] [--model models/NAME] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from adscreen import load_model
from adscreen.config import MAX_AD_CHARS
from adscreen.language import warm_up
from adscreen.rules.contacts import extract
from adscreen.text import fold

# Each ad is a unit repeated to the length: (name, unit).
UNITS: list[tuple[str, str]] = [
    ("digits", "1"),
    ("nfkc_20.", "⒛"),
    ("nfkc_(10)", "⑽"),
    ("digits_spaced", "1 "),
    ("digits_commas", "1,"),
    ("digits_dots", "1."),
    ("digits_dashes", "1-"),
    ("thousands", "1 000 "),
    ("currency", "$"),
    ("currency_digits", "$1"),
    ("euro_spaced", "€ 1 "),
    ("amount_no_unit", "5000 "),
    ("amount_range", "1500-"),
    ("amount_then_gap", "4000$ в месяц "),
    ("spaces", "a" + " " * 99),
    ("newlines", "a" + "\n" * 99),
    ("long_word_latin", "a"),
    ("long_word_cyrillic", "а"),
    ("mixed_script_word", "aа"),
    ("single_letters", "а "),
    ("spaced_emoji", "а✨"),
    ("leet_word", "r0"),
    ("invisible", "\u200b"),
    ("invisible_between", "a\u2062"),
    ("emoji", "🔥"),
    ("at_signs", "@"),
    ("email_start", "a."),
    ("email_near_miss", "a@b"),
    ("handle_near_miss", "@a_"),
    ("url_near_miss", "http://"),
    ("www_near_miss", "www."),
    ("domain_near_miss", "a-"),
    ("phone_near_miss", "+375 29 "),
    ("phone_digits", "+1"),
    ("low_skill_start", "без "),
    ("up_to_start", "up to "),
    ("no_start", "no "),
    ("until_start", "до "),
    ("underscore_word", "a_"),
    ("slash", "1/"),
]


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=MAX_AD_CHARS, help="length of each ad")
    parser.add_argument("--model", help="model folder (default: the registry's current model)")
    parser.add_argument("--only", nargs="*", help="names of the ads to score (default: all)")
    arguments = parser.parse_args()
    scorer = load_model(arguments.model)
    warm_up()
    scorer.score("Работа в Дубае, 4000$ в месяц, без опыта, пиши в Telegram @dubai_job")  # caches, compiled regexes
    guide = scorer.guide
    print(
        f"{'ad':>20} {'chars':>6} {'score s':>8} {'cpu s':>6} {'fold s':>7} {'flags s':>8} {'contacts s':>10}"
        f" {'places s':>8}"
    )
    worst = ("", 0.0, 0.0)
    for name, unit in UNITS:
        if arguments.only and name not in arguments.only:
            continue
        text = (unit * (arguments.chars // len(unit) + 1))[: arguments.chars]
        folded = fold(text)
        steps = {
            "fold": timed(lambda text=text: fold(text)),
            "flags": timed(lambda folded=folded: scorer.flags.scan(folded)),
            "contacts": timed(lambda text=text: extract(text, "BY")),
            "places": timed(lambda folded=folded: guide.destinations_in(folded)),
        }
        start_cpu = time.process_time()
        total = timed(lambda text=text: scorer.score(text, country="BY"))
        cpu = time.process_time() - start_cpu
        print(
            f"{name:>20} {len(text):>6} {total:>8.3f} {cpu:>6.3f} {steps['fold']:>7.3f} {steps['flags']:>8.3f}"
            f" {steps['contacts']:>10.3f} {steps['places']:>8.3f}",
            flush=True,
        )
        if total > worst[1]:
            worst = (name, total, cpu)
    print(f"worst: {worst[0]} {worst[1]:.3f} s ({worst[2]:.3f} s CPU)")


if __name__ == "__main__":
    main()
