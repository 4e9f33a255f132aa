"""How a run shows itself: a live progress bar on a terminal, one plain line
per event otherwise (logs, CI), or JSON lines for machines (--json)."""

from __future__ import annotations

import json
import sys
import time

import click

from backfill.periods import format_bound


class Progress:
    """Receives the runner's events (see runner.OnEvent) and prints them."""

    def __init__(self, as_json: bool = False, stream=None):
        self.as_json = as_json
        self.stream = stream or sys.stdout
        self.live = not as_json and self.stream.isatty()
        self.started = time.monotonic()
        self.total = 0
        self.done = 0
        self.rows = 0
        self.current = ""
        self.label_width = 27
        self.index_width = 3
        self.model_width = 0  # a run over a selection shows each batch's model

    def event(self, kind: str, payload) -> None:
        getattr(self, f"on_{kind}")(payload)

    # -- events ----------------------------------------------------------------------

    def on_planned(self, report) -> None:
        self.total = len(report.plan) - len(report.skipped)
        periods = sum(b.periods for b in report.plan)
        if self.as_json:
            several = {"models": list(report.models), "left_alone": [
                {"model": name, "reason": why} for name, why in report.left_alone]} if report.models else {}
            return self.emit("planned", model=report.name, run_id=report.run_id, dry_run=report.dry_run,
                             batches=[self.batch_dict(b, report) for b in report.plan],
                             skipped=[b.index for b in report.skipped], **several)
        for name, why in report.left_alone:
            self.line(f"Selected {name} needs no rebuild: {why}.")
        if not report.plan:
            return self.line(f"Nothing to backfill for {report.name}: no period is missing.")
        self.label_width = max(len(b.label()) for b in report.plan)
        self.index_width = max(3, len(str(len(report.plan))))
        self.model_width = max(len(b.model) for b in report.plan) if report.models else 0
        if report.resumed:
            return self.line(
                f"Resuming run {report.run_id} of {report.name}: {self.total} of {len(report.plan)} "
                f"batch(es) left ({len(report.skipped)} already done)."
            )
        if report.models:
            what = f"{len(report.models)} models ({report.name}, parents first) in {len(report.plan)} batch(es)"
        else:
            what = f"{report.model.name}: {periods} {report.grain}(s) in {len(report.plan)} batch(es)"
        if not report.dry_run:
            return self.line(f"Backfilling {what}.")
        self.line(f"Plan for {what}. Dry run: nothing is written.")
        for batch in report.plan:
            window_vars = json.dumps(report.batch_vars(batch))
            whole = "  rebuilt whole" if not report.model_of(batch).is_incremental else ""
            self.line(f"  batch {self.batch_columns(batch)}  --vars '{window_vars}'{whole}")

    def on_warning(self, text: str) -> None:
        if self.as_json:
            return self.emit("warning", message=text)
        self.line(f"Warning: {text}")

    def on_verified(self, report) -> None:
        """--verify-first: what a rerun would change, before anything runs."""
        if self.as_json:
            return self.emit("verified", **report.to_dict())
        self.line(report.summary())

    def on_batch_started(self, payload) -> None:
        batch, attempt = payload
        self.current = f"{batch.model} {batch.label()}" if batch.model else batch.label()
        if self.as_json:
            return self.emit("batch_started", batch=batch.index, start=format_bound(batch.start),
                             end=format_bound(batch.end), attempt=attempt, **self.model_field(batch))
        self.draw()

    def on_batch_retry(self, payload) -> None:
        batch, attempt, error, wait_s = payload
        if self.as_json:
            return self.emit("batch_retry", batch=batch.index, attempt=attempt, error=error, wait_seconds=wait_s)
        self.line(f"  batch {self.batch_columns(batch)}  attempt {attempt} failed, retrying in "
                  f"{wait_s:g}s: {error}")

    def on_batch_finished(self, result) -> None:
        self.done += 1
        self.rows += result.rows_written or 0
        if self.as_json:
            return self.emit("batch_finished", batch=result.batch.index, **self.model_field(result.batch),
                             status=result.status,
                             seconds=round(result.seconds, 3), attempts=result.attempts,
                             rows=result.rows_written, error=result.message or None, checks=list(result.checks))
        count = result.rows_written
        rows = f"  {count} row{'' if count == 1 else 's'}" if count is not None else ""
        state = "ok" if result.succeeded else ("written, checks FAILED" if result.written else "FAILED")
        tries = f"  ({result.attempts} attempts)" if result.attempts > 1 else ""
        self.line(f"  batch {self.batch_columns(result.batch)}  {state}  "
                  f"{result.seconds:.1f}s{rows}{tries}")
        if not result.succeeded:
            self.line(f"             {result.message}")
        for check in result.checks:
            if check["status"] == "warn":
                self.line(f"             warning: {check['name']}: {check['detail']}")

    def on_finished(self, report) -> None:
        if self.as_json:
            status = "dry_run" if report.dry_run else ("success" if report.succeeded else "failed")
            return self.emit("finished", run_id=report.run_id, status=status, batches_done=report.done,
                             batches_total=len(report.plan), rows=self.rows,
                             seconds=round(report.wall_seconds, 3), batch_seconds=round(report.batch_seconds, 3))

    # -- output ----------------------------------------------------------------------

    def batch_columns(self, batch) -> str:
        """`  12  2024-01-08 → 2024-01-14`, aligned over the whole plan (hours, 1000+ batches);
        in a run over a selection, the batch's model first."""
        model = f"{batch.model:<{self.model_width}}  " if batch.model else ""
        return f"{batch.index:>{self.index_width}}  {model}{batch.label():<{self.label_width}}"

    @staticmethod
    def model_field(batch) -> dict:
        return {"model": batch.model} if batch.model else {}

    @classmethod
    def batch_dict(cls, batch, report) -> dict:
        return {"batch": batch.index, **cls.model_field(batch), "start": format_bound(batch.start),
                "end": format_bound(batch.end), "vars": report.batch_vars(batch)}

    def emit(self, event: str, **fields) -> None:
        click.echo(json.dumps({"event": event, **fields}, default=str), file=self.stream)

    def line(self, text: str) -> None:
        if self.live:
            click.echo("\r\033[K", nl=False, file=self.stream)
        click.echo(text, file=self.stream)
        if self.live and self.done < self.total:
            self.draw()

    def draw(self) -> None:
        """The live bar: batches done, the window running, rows so far, ETA."""
        if not self.live or not self.total:
            return
        width = 24
        filled = int(width * self.done / self.total)
        elapsed = time.monotonic() - self.started
        eta = (elapsed / self.done) * (self.total - self.done) if self.done else None
        eta_text = f"ETA {int(eta // 60)}:{int(eta % 60):02d}" if eta is not None else "ETA …"
        bar = "█" * filled + "░" * (width - filled)
        click.echo(f"\r\033[K  {bar} {self.done}/{self.total}  {self.current}  {self.rows} rows  {eta_text}",
                   nl=False, file=self.stream)
