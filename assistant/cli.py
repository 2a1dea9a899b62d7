"""Command line: ``assistant index | ask | chat | model``. A thin layer over :class:`Assistant`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import AssistantError

_corpus_option = click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of documents (default: the bundled corpus).",
)
_index_option = click.option(
    "--index-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the index lives (default: index/).",
)


def _progress_bar():
    """A tqdm bar fed by ``Store.sync``'s progress callback."""
    from tqdm import tqdm

    state: dict = {}

    def update(done: int, total: int, name: str) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(
                total=total, unit=" docs", file=sys.stderr, leave=False, disable=None,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} docs "
                "[{rate_fmt}, {elapsed} so far, ETA {remaining}] {postfix}",
            )  # fmt: skip
        bar.n = done
        bar.set_postfix_str(name[-40:], refresh=True)
        if done >= total:
            bar.close()

    return update


def _open(corpus, index_dir, progress=True):
    from .api import Assistant

    return Assistant(
        corpus=corpus, index_dir=index_dir, progress=_progress_bar() if progress else None
    )


def _report_skipped(report) -> None:
    for name, reason in report.skipped:
        click.echo(f"skipped {name}: {reason}", err=True)


def _print_answer(answer, timings: bool) -> None:
    click.echo(answer.text)
    if answer.citations:
        click.echo("\nSources:")
        for n, c in enumerate(answer.citations, 1):
            click.echo(f"  [{n}] {c.title} ({c.locator}, chars {c.start}-{c.end})")
            click.echo(f"      “{c.quote}”")
    if answer.unsupported:
        click.echo("\nNot verified against the sources: " + " ".join(answer.unsupported))
    if timings:
        shown = ", ".join(f"{k}={v:.2f}" for k, v in answer.timings.items())
        u = answer.usage
        tokens = f"{u.prompt_tokens} pre-filled, {u.cached_tokens} cached, "
        tokens += f"{u.completion_tokens} generated"
        click.echo(f"\n[timings] {shown}; tokens: {tokens}", err=True)


@click.group()
@click.version_option(package_name="assistant")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Log retrieval hits, prompt tokens and timings on stderr (ASSISTANT_LOG_LEVEL=INFO).",
)
def cli(verbose: bool) -> None:
    """Answer questions from your documents, with verified citations. Fully offline."""
    from .config import configure_logging, offline_environment

    offline_environment()
    configure_logging("INFO" if verbose else None)


@cli.command()
@_corpus_option
@_index_option
@click.option("--rebuild", is_flag=True, help="Drop the index and build it from scratch.")
def index(corpus, index_dir, rebuild):
    """Build or update the index: new files added, changed replaced, deleted removed."""
    from .api import Assistant

    bot = Assistant(corpus=corpus, index_dir=index_dir, update_index=False)
    report = bot.index(rebuild=rebuild, progress=_progress_bar())
    _report_skipped(report)
    click.echo(report.summary())


@cli.command()
@click.argument("question")
@_corpus_option
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--timings", is_flag=True, help="Print where the time went (on stderr).")
def ask(question, corpus, index_dir, as_json, timings):
    """Answer one QUESTION and print its numbered sources."""
    bot = _open(corpus, index_dir, progress=False)
    _report_skipped(bot.last_sync)
    answer = bot.ask(question)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        if timings:
            usage = answer.to_dict()["usage"]
            click.echo(json.dumps({"timings": answer.timings, "usage": usage}), err=True)
    else:
        _print_answer(answer, timings)


@cli.command()
@_corpus_option
@_index_option
@click.option("--timings", is_flag=True, help="Print where the time went after each answer.")
@click.option(
    "--resume", "resume", is_flag=False, flag_value="", default=None, metavar="[ID]",
    help="Continue the last conversation, or the one with this id.",
)  # fmt: skip
def chat(corpus, index_dir, timings, resume):
    """Talk to the assistant in the terminal (empty line or Ctrl-D to quit). The conversation
    is saved (unless ASSISTANT_SAVE_CONVERSATIONS=false); follow-ups read its earlier turns."""
    bot = _open(corpus, index_dir)
    _report_skipped(bot.last_sync)
    conversation = None
    if resume is not None:
        conversation = resume or bot.conversations.latest()
        if conversation is None:
            raise AssistantError("no saved conversation to resume: start one with `assistant chat`")
        for message in bot.conversations.get(conversation).messages:
            click.echo(f"\n> {message.question}\n{message.answer.text}")
    click.echo(f"{bot.last_sync.summary()}\nLoading the model…", err=True)
    bot.warm_up()
    click.echo("Ask a question about the documents (empty line to quit).", err=True)
    while True:
        try:
            question = input("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        try:
            generation = bot.stream(question, conversation=conversation)
            for piece in generation:
                click.echo(piece, nl=False)
            click.echo("\n")
            _print_answer(generation.answer, timings)
            conversation = generation.answer.conversation_id or conversation
        except AssistantError as exc:
            click.echo(f"error: {exc}", err=True)
    if conversation:
        click.echo(f"Saved as conversation {conversation} (assistant chat --resume).", err=True)


@cli.group()
def conversations():
    """Saved conversations: list, show, export, delete."""


def _conversations(index_dir):
    from .api import Assistant

    return Assistant(index_dir=index_dir, update_index=False).conversations


@conversations.command("list")
@_index_option
def conversations_list(index_dir):
    """The conversations, newest first: id, last change, title."""
    for c in _conversations(index_dir).list():
        click.echo(f"{c.id}  {c.updated_at}  {c.title}")


@conversations.command("show")
@click.argument("conversation_id")
@_index_option
def conversations_show(conversation_id, index_dir):
    """A conversation's questions and cited answers."""
    click.echo(_conversations(index_dir).export(conversation_id, "md"), nl=False)


@conversations.command("export")
@click.argument("conversation_id")
@_index_option
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md",
              show_default=True, help="Markdown with numbered sources, or JSON.")  # fmt: skip
def conversations_export(conversation_id, index_dir, fmt):
    """Print a conversation as Markdown or JSON (redirect it to a file)."""
    click.echo(_conversations(index_dir).export(conversation_id, fmt), nl=False)


@conversations.command("delete")
@click.argument("conversation_id")
@_index_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def conversations_delete(conversation_id, index_dir, yes):
    """Delete a conversation from the file for good."""
    store = _conversations(index_dir)
    title = store.get(conversation_id).title
    if not yes:
        click.confirm(f"Delete “{title}” for good?", abort=True)
    store.delete(conversation_id)
    click.echo(f"Deleted {conversation_id}.", err=True)


def _serve(corpus, index_dir, host: str, port: int, programs: bool) -> None:
    from .config import Settings
    from .server import check_exposure, serve
    from .ui import check_port

    # Before the slow start-up, so a clash or an open address is reported at once.
    check_exposure(host, Settings().api_key)
    check_port(host, port)
    bot = _open(corpus, index_dir)
    _report_skipped(bot.last_sync)
    click.echo(f"{bot.last_sync.summary()}\nLoading the model…", err=True)
    bot.warm_up()
    where = f"http://{host}:{port}"
    click.echo(f"Open {where} in a browser (Ctrl-C to stop).", err=True)
    if programs:
        click.echo(f"OpenAI-compatible API: {where}/v1 · JSON API: {where}/api/docs · "
                   f"MCP: {where}/mcp", err=True)  # fmt: skip
    serve(bot, host, port, programs=programs)


_host_option = click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="Address to listen on; anything but loopback needs ASSISTANT_API_KEY.",
)  # fmt: skip


@cli.command()
@_corpus_option
@_index_option
@_host_option
@click.option("--port", default=7860, show_default=True, help="Port to listen on.")
def ui(corpus, index_dir, host, port):
    """Open the web UI: chat with cited answers, sources panel, documents tab."""
    _serve(corpus, index_dir, host, port, programs=False)


@cli.command()
@_corpus_option
@_index_option
@_host_option
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
def serve(corpus, index_dir, host, port):
    """Serve the UI at /, an OpenAI-compatible API at /v1, a JSON API at /api and MCP at /mcp,
    over one index and one engine."""
    _serve(corpus, index_dir, host, port, programs=True)


@cli.command()
@_corpus_option
@_index_option
def mcp(corpus, index_dir):
    """Serve the MCP tools (ask, search, list_documents) over stdio, for desktop agents."""
    from .mcp_tools import build_mcp

    bot = _open(corpus, index_dir, progress=False)  # stdout is the protocol: nothing else
    _report_skipped(bot.last_sync)
    build_mcp(bot).run("stdio")


@cli.command("llm-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on.")
def llm_server(host, port):
    """Serve the model over llama.cpp's OpenAI-compatible API (for ASSISTANT_LLM_URL)."""
    import time

    from .config import Settings
    from .llm import LlamaEngine
    from .ui import check_port

    check_port(host, port)
    engine = LlamaEngine.from_settings(Settings(), listen=(host, port))
    click.echo(f"Serving {engine.model_path.name} at {engine.address}/v1 (Ctrl-C to stop).")
    while True:
        time.sleep(3600)


@cli.command("eval")
@click.option(
    "--set",
    "set_names",
    type=click.Choice(["golden", "pydocs", "pydocs-ci", "all", "ci"]),
    default="all",
    show_default=True,
    help="Which bundled golden set to run: golden (bundled corpus), pydocs (Debian's Python "
    "docs, a subset), pydocs-ci (every 4th question of pydocs), all (golden and pydocs), or "
    "ci (golden and pydocs-ci: what `make test` gates on).",
)
@click.option(
    "--golden",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Your own golden set (JSON lines), asked of --corpus, instead of the bundled sets.",
)
@_corpus_option
@_index_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("eval-out"),
    show_default=True,
    help="Folder for results.jsonl, summary.json, junit.xml, report.md (one subfolder a set).",
)
@click.option(
    "--thresholds",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Metric bounds (TOML); default: evals/thresholds.toml.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A baseline.json (one entry a question id) to report regressions against.",
)
@click.option(
    "--write-baseline",
    type=click.Path(path_type=Path),
    default=None,
    help="Save this run as a baseline file.",
)
def eval_command(set_names, golden, corpus, index_dir, out, thresholds, baseline, write_baseline):
    """Run golden questions through the real pipeline and gate on each set's metrics."""
    from . import evaluation as ev
    from .config import default_index_dir

    _, default_thresholds = ev.default_paths()
    if golden:
        sets = [ev.EvalSet("custom", golden, corpus)]
    else:
        bundled = ev.eval_sets()
        groups = {"all": ["golden", "pydocs"], "ci": ["golden", "pydocs-ci"]}
        sets = [bundled[name] for name in groups.get(set_names, [set_names])]
    base = index_dir or default_index_dir()
    before = json.loads(baseline.read_text()) if baseline else {}
    all_results, failed = [], False
    for eval_set in sets:
        bounds = ev.load_thresholds(thresholds or default_thresholds, eval_set.name)
        items = eval_set.items()
        if eval_set.name == "golden":
            where, set_index = corpus, index_dir
        else:
            collection = eval_set.collection or eval_set.name
            where = ev.prepare_corpus(eval_set, base / f"eval-{collection}-corpus")
            set_index = base / f"eval-{collection}"
        bot = _open(where, set_index, progress=False)
        bot.warm_up()
        results = []
        for n, item in enumerate(items, 1):
            result = ev.run_question(bot, item)
            results.append(result)
            mark = "ok  " if result.passed else "FAIL"
            click.echo(f"[{eval_set.name} {n:>3}/{len(items)}] {mark} {item.id}: "
                       f"{result.error or result.answer}", err=True)  # fmt: skip
        del bot
        summary = ev.summarize(results)
        failures = ev.gate(summary, bounds)
        regressed = ev.regressions(results, before)
        target = out if len(sets) == 1 else out / eval_set.name
        ev.write_reports(target, results, summary, failures, regressed)
        report = ev.markdown_report(results, summary, failures, regressed)
        click.echo(f"\n## {eval_set.name}\n" + report.split("## Questions")[0])
        for question in regressed:
            click.echo(f"regression: {question} passed in the baseline and fails now", err=True)
        for failure in failures:
            click.echo(f"eval gate ({eval_set.name}): {failure}", err=True)
        failed |= bool(failures)
        all_results += results
    if write_baseline:
        summary = ev.summarize(all_results)
        write_baseline.write_text(
            json.dumps(ev.baseline_from(all_results, summary), indent=2) + "\n"
        )
    if failed:
        sys.exit(1)


@cli.group()
def model() -> None:
    """Assemble, verify or locate the LLM weights."""


@model.command("path")
@click.option("--verify", is_flag=True, help="Re-hash the file even if it was verified before.")
def model_path(verify):
    """Assemble the bundled model if needed, verify it, and print its path."""
    from .config import Settings
    from .models import ensure_model

    click.echo(ensure_model(Settings(), verify=verify))


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AssistantError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
