"""A live list of build steps on stderr (rich), one line per step with its time; the running step shows its
elapsed time and, for long steps, what it is doing (``stage``)."""
import sys
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table


class StepProgress:
    """Shows pending / running / done / failed for each step while the build runs."""

    def __init__(self, names, quiet=False):
        self.names = names
        self.state = {n: ("pending", None) for n in names}
        self.started = {}
        self.detail = ""
        self.quiet = quiet
        self.console = Console(file=sys.stderr)
        self.live = None
        self.notes = []

    def _table(self):
        table = Table(show_header=False, box=None, pad_edge=False)
        marks = {"pending": "[dim]·[/]", "running": "[yellow]>[/]", "done": "[green]✓[/]", "failed": "[red]✗[/]",
                 "skipped": "[dim]–[/]"}
        for name in self.names:
            status, seconds = self.state[name]
            if status == "running":
                table.add_row(marks[status], name, f"{time.perf_counter() - self.started[name]:.0f} s",
                              f"[dim]{self.detail}[/]")
            else:
                table.add_row(marks[status], name, "" if seconds is None else f"{seconds:.1f} s")
        return table

    def __enter__(self):
        if not self.quiet:
            self.live = Live(get_renderable=self._table, console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(*exc)
            if not self.console.is_terminal:  # rich leaves the last row of the table unterminated there
                self.console.line()
        for note in self.notes:  # shown even when quiet: a step did not run
            self.console.print(note, markup=False, highlight=False, soft_wrap=True)

    def start(self, name):
        self.started[name] = time.perf_counter()
        self.detail = ""
        self._set(name, "running", None)

    def stage(self, text):
        """What the running step is doing now (shown beside its elapsed time)."""
        self.detail = text
        if self.live is not None:
            self.live.refresh()

    def done(self, name, failed=False, skipped=None):
        """``skipped``: the reason a step could not run, printed below the table."""
        self._set(name, "failed" if failed else "skipped" if skipped else "done", time.perf_counter() - self.started[name])
        if skipped:
            self.notes.append(f"{name}: {skipped}")

    def _set(self, name, status, seconds):
        self.state[name] = (status, seconds)
        if self.live is not None:
            self.live.update(self._table())
