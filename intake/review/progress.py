"""A progress bar on stderr for large files, only when stderr is a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

LARGE = 8 << 20


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """Yield a function that advances the bar by n bytes (a no-op for small files or no terminal)."""
    from rich.console import Console

    console = Console(stderr=True)
    if total < LARGE or not console.is_terminal:
        yield lambda n: None
        return
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from intake.review.names import terminal_text

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(escape(terminal_text(label)[:40]), total=total)
        yield lambda n: bar.advance(task, n)
