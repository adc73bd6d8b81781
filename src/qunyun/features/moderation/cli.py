"""``qunyun spam ...``: classify a CSV, check one text, train and evaluate the model.

Mounted by :class:`.plugin.ModerationPlugin` through ``registry.add_cli``. Output contract (used
by evaluation): ``classify`` adds ``label`` (spam/ham), ``score`` (0..1) and ``reasons`` columns;
``check --json`` prints exactly one JSON object ``{"label", "score", "reasons"}``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from qunyun.i18n import t
from qunyun.importers.common import sniff_encoding

from . import classifier
from .dataset import DataMissingError
from .detector import auto_workers, detect_many, get_detector

app = typer.Typer(
    name="spam",
    help="Spam/ad detection: classify a CSV, check a text, train and evaluate the model. 垃圾/广告检测",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

_err = Console(stderr=True)
ADDED = ("label", "score", "reasons")
CHUNK = 5_000


def _lang(ctx: typer.Context | None) -> str:
    root = ctx.find_root() if ctx is not None else None
    lang = root.params.get("lang") if root is not None else None
    return str(lang or os.environ.get("QUNYUN_LANG") or "zh-CN")


def _fail(message: str, code: int = 2) -> None:
    _err.print(f"[bold red]✗[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


class _Counting(io.RawIOBase):
    """A binary reader that counts the bytes handed out (drives the progress bar)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n


@app.command()
def classify(
    ctx: typer.Context,
    input: Annotated[
        Path, typer.Option("--input", "-i", help="CSV file (UTF-8, with or without BOM; GBK and UTF-16 are detected).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the CSV with label/score/reasons.")],
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the message text.")] = "text",
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Rows scored per batch.")] = CHUNK,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")] = True,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Processes to use (0 = up to 2 idle CPU cores).")
    ] = 0,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Input encoding (default: detected; utf-8, gb18030, utf-16 ...).")
    ] = None,
) -> None:
    """Label every row of a CSV as spam/ham (streams in chunks: memory stays flat)."""
    lang = _lang(ctx)
    if not input.is_file():
        _fail(t("spam.input_not_found", lang, path=str(input)))
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    detector = get_detector()
    total = input.stat().st_size
    # forking a worker pool pays off from a few thousand rows on (~1 MB of CSV)
    workers = workers or (auto_workers() if total > 1_000_000 else 1)
    with input.open("rb") as raw:
        if encoding is None:
            # a Chinese Excel or WPS export is GB18030/GBK: read as UTF-8 it would be scored as
            # mojibake (every row ham) without a word of warning
            encoding = sniff_encoding(raw.read(1 << 20))
            raw.seek(0)
            if encoding == "gb18030":
                _err.print(t("spam.encoding_detected", lang, encoding=encoding), highlight=False)
        elif encoding.replace("-", "").replace("_", "").lower() == "utf8":
            encoding = "utf-8-sig"  # a BOM is not part of the header
        try:
            codecs.lookup(encoding)
        except LookupError:
            _fail(t("spam.bad_encoding", lang, encoding=encoding))
        counting = _Counting(raw)
        reader_fh = io.TextIOWrapper(io.BufferedReader(counting), encoding=encoding, errors="replace", newline="")
        reader = csv.reader(reader_fh)
        header = next(reader, None)
        if header is None:
            _fail(t("spam.empty_input", lang, path=str(input)))
            return
        if text_column in header:
            idx = header.index(text_column)
        else:
            # "Text", " text" or "TEXT" from a spreadsheet: one column that differs only in case or
            # surrounding spaces is the one meant; anything else is an error naming the columns
            loose = [i for i, c in enumerate(header) if c.strip().casefold() == text_column.strip().casefold()]
            if len(loose) != 1:
                _fail(t("spam.missing_column", lang, column=text_column, available=", ".join(header) or "-"))
            idx = loose[0]
            _err.print(t("spam.column_matched", lang, column=text_column, found=header[idx]), highlight=False)
        clashes = [c for c in header if c in ADDED]
        out_header = [f"input_{c}" if c in ADDED else c for c in header] + list(ADDED)
        if clashes:
            _err.print(t("spam.renamed_columns", lang, columns=", ".join(clashes)), highlight=False)
        width = len(header)
        rows_done = spam_count = 0
        output.parent.mkdir(parents=True, exist_ok=True)
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TimeRemainingColumn(),
            console=_err,
            disable=not progress,
            transient=False,
        )
        with output.open("w", encoding="utf-8", newline="") as out_fh, bar:
            task = bar.add_task(t("spam.classifying", lang), total=total or None, rows=0)
            writer = csv.writer(out_fh)
            writer.writerow(out_header)

            garbled: list[int] = []  # data rows (1-based) with bytes the encoding could not decode
            rows_read = 0

            def chunks() -> Iterator[tuple[list[list[str]], list[str]]]:
                nonlocal rows_read
                rows = (row for row in reader if row)  # blank lines are skipped
                while chunk := list(islice(rows, chunk_size)):
                    texts = [r[idx] if idx < len(r) else "" for r in chunk]
                    if "\ufffd" in "".join(texts):
                        garbled.extend(rows_read + k + 1 for k, x in enumerate(texts) if "\ufffd" in x)
                    rows_read += len(chunk)
                    yield chunk, texts

            for rows, labels in detector.label_chunks(chunks(), workers=workers):
                for row, sp, sc, why in zip(rows, labels.spam, labels.scores, labels.reasons, strict=True):
                    if len(row) < width:
                        row = row + [""] * (width - len(row))
                    writer.writerow([*row, "spam" if sp else "ham", f"{sc:.4f}", why])
                spam_count += sum(labels.spam)
                rows_done += len(rows)
                bar.update(task, completed=counting.count, rows=rows_done)
            bar.update(task, completed=total, rows=rows_done)
    if garbled:
        rows_list = ", ".join(map(str, garbled[:10])) + (" …" if len(garbled) > 10 else "")
        _err.print(
            t("spam.undecodable_rows", lang, n=len(garbled), rows=rows_list, encoding=encoding), highlight=False
        )
    _err.print(t("spam.classified", lang, rows=rows_done, spam=spam_count, output=str(output)), highlight=False)


@app.command()
def check(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The message text ('-' reads stdin).")],
    json_: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")] = False,
    evidence: Annotated[bool, typer.Option("--evidence", help="Also show the matched evidence.")] = False,
) -> None:
    """Score one message: label, score and the reasons behind it."""
    lang = _lang(ctx)
    if text == "-":
        text = sys.stdin.read()
    try:
        verdict = detect_many([text])[0]
    except DataMissingError as exc:
        _fail(t("spam.data_missing", lang, error=str(exc)))
        return
    if json_:
        sys.stdout.write(json.dumps(verdict.to_dict(evidence=evidence), ensure_ascii=False) + "\n")
        return
    out = Console()
    color = "red" if verdict.is_spam else "green"
    out.print(
        f"[bold {color}]{t('spam.label.' + verdict.label, lang)}[/] ({verdict.label})  "
        f"{t('spam.score', lang)} {verdict.score:.4f}"
    )
    out.print(f"{t('spam.reasons', lang)}: {', '.join(verdict.reasons) or '-'}", highlight=False)
    if evidence:
        for f in verdict.findings:
            out.print(f"  {f.code:<24} {f.weight:+.1f}  {f.evidence}", highlight=False, markup=False)


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[
        Path | None, typer.Option("--data", help="Directory with the spam data (default ../shared/data/spam).")
    ] = None,
    feedback: Annotated[
        Path | None, typer.Option("--feedback", help="Extra text,label CSV of operators' decisions.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")] = False,
) -> None:
    """Train the model from the shared data (+ feedback) and cache it."""
    lang = _lang(ctx)
    if feedback is not None and not feedback.is_file():
        _fail(t("spam.feedback_missing", lang, path=str(feedback)))
    try:
        model, path = classifier.train(data, feedback)
    except DataMissingError as exc:
        _fail(t("spam.data_missing", lang, error=str(exc)))
        return
    classifier.set_model(None)
    meta = model.meta
    if json_:
        sys.stdout.write(json.dumps({"path": str(path), **meta}, ensure_ascii=False) + "\n")
        return
    _err.print(
        t(
            "spam.trained",
            lang,
            spam=meta["spam"],
            ham=meta["ham"],
            feedback=meta["feedback_rows"],
            seconds=meta["seconds"],
            path=str(path),
        ),
        highlight=False,
    )


@app.command("eval")
def eval_(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Directory with the spam data.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")] = False,
    cv: Annotated[
        int, typer.Option("--cv", min=0, help="Also k-fold CV on the 80 % train part (0: off; ~1 min for 5).")
    ] = 0,
) -> None:
    """Precision/recall/F1 per shared set on a held-out 20 % (stratified, seed 42)."""
    from .evaluate import cross_validate, evaluate

    lang = _lang(ctx)
    if cv == 1:
        _fail(t("spam.cv_folds", lang))
        return
    try:
        result = evaluate(data)
        if cv:
            result["cv"] = cross_validate(data, folds=cv)
    except DataMissingError as exc:
        _fail(t("spam.data_missing", lang, error=str(exc)))
        return
    if json_:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    table = Table(title=t("spam.eval_title", lang))
    for col in ("set", "n", "spam", "model P", "model R", "model F1", "P", "R", "F1"):
        table.add_column(col, justify="right" if col != "set" else "left")
    for name, r in result["sets"].items():
        m, f = r["model"], r["rules+model"]
        table.add_row(
            name, str(r["n"]), str(r["spam"]),
            f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
            f"{f['precision']:.3f}", f"{f['recall']:.3f}", f"[bold]{f['f1']:.3f}[/]",
        )  # fmt: skip
    Console().print(table)
    chat = result.get("chat_false_positives")
    if chat:
        rate = f"{chat['rate']:.2%}"
        Console().print(t("spam.eval_chat_fp", lang, n=chat["n"], flagged=chat["flagged"], rate=rate), highlight=False)


def main() -> None:  # pragma: no cover - ``python -m qunyun.features.moderation.cli``
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
