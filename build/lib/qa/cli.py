"""`qa`: index a folder of articles, ask questions, serve the chat.

Every error a user can cause ends in one readable line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from index.config import Settings
from index.errors import QAError

EXIT_USAGE = 2


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(index_dir=args.index_dir, store=args.store)


def _into(settings: Settings) -> str:
    """Where a write went: the index folder, and the collection it was published to."""
    return f"{settings.index_dir} and {settings.store}" if settings.store else str(settings.index_dir)


def cmd_index(args: argparse.Namespace) -> int:
    from index.builder import build_index, rebuild_index

    settings = _settings(args)
    if args.folder is None:
        if not args.rebuild:
            raise QAError("give the FOLDER to index, e.g. `qa index seeds/` "
                          "(or `qa index --rebuild` to re-embed every kept article)")
        report = rebuild_index(settings, progress=not args.quiet, ray=args.ray)
    else:
        report = build_index(Path(args.folder), settings, rebuild=args.rebuild, progress=not args.quiet,
                             ray=args.ray)
    _warn_skipped(report.skipped)
    what = f"indexed {args.folder}" if args.folder else "rebuilt"
    print(
        f"{what} into {_into(settings)}: "
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged; "
        f"{report.chunk_count} chunks" + (" (every article re-embedded)" if report.rebuilt else "")
    )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from index.articles import load_file
    from index.builder import update_index
    from index.sources import ADDED

    settings = _settings(args)
    articles, skipped = [], []
    for name in args.files:
        loaded = load_file(Path(name))
        articles += loaded.articles
        skipped += loaded.skipped
    _warn_skipped(skipped)
    if not articles:
        raise QAError("no article could be read from the files given")
    report = update_index(articles, settings, ADDED, progress=not args.quiet)
    _warn_skipped(report.skipped)
    print(
        f"added to {_into(settings)}: {len(report.added)} added, {len(report.updated)} "
        f"updated, {len(report.unchanged)} unchanged; {report.chunk_count} chunks"
    )
    return 0


def _warn_skipped(skipped: list) -> None:
    for item in skipped:
        print(f"warning: skipped {item.path}: {item.reason}", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    from index.sources import list_articles

    rows = list_articles(_settings(args).index_dir)
    if args.json:
        print(json.dumps([row._asdict() for row in rows], ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        print("\t".join((row.id, row.origin or "(not recorded)", row.date or "-", row.title)))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.builder import remove_articles

    settings = _settings(args)
    report = remove_articles(args.ids, settings)
    print(f"removed {len(report.removed)} from {_into(settings)}; {report.chunk_count} chunks")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.assistant import Assistant
    from qa.llm import LLMConfig

    settings = _settings(args)
    llm = None if args.extractive else LLMConfig.from_env()
    assistant = Assistant.from_settings(settings, llm, model_processes=True)
    answer = assistant.answer(args.question, k=args.k)
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text, end="\n\n")
    if answer.abstained:
        print("(nearest passages, not an answer)\n")
    for p in answer.passages:
        meta = " | ".join(x for x in (p.date, p.outlet) if x)
        print(f"[{p.rank}] {p.title}" + (f"  ({meta})" if meta else ""))
        print(f"    source {p.source}, characters {p.start}-{p.end}, score {p.score:.3f}")
        if p.also_in:
            print("    also in: " + ", ".join(f"{c.outlet or c.title} ({c.source})" for c in p.also_in))
        print(textwrap.indent(textwrap.fill(p.text, width=100), "    "), end="\n\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import threading

    from qa.assistant import Assistant
    from qa.llm import LLMConfig

    auth = _parse_auth(args.auth) if args.auth else None
    if auth is None and args.host not in LOOPBACK:
        print(
            f"warning: serving on {args.host} without --auth: anyone who can reach this "
            "address can read the articles and add new ones",
            file=sys.stderr,
        )
    assistant = Assistant.from_settings(_settings(args), LLMConfig.from_env(), model_processes=True)
    assistant.check_index()  # fail now, with a clear message, if there is no index
    # The models load in their own processes while Gradio is imported (seconds each).
    threading.Thread(target=assistant.warm_up, daemon=True).start()
    from ui.app import serve

    serve(assistant, host=args.host, port=args.port, auth=auth)
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")

INDEX_HELP = """\
Index a folder of articles. The index remembers where each article came from (its
origin: a folder, `qa add`, or an upload in the chat) and keeps its source text.

`qa index FOLDER` mirrors FOLDER only: it adds new files, re-embeds changed ones and
removes the articles of FOLDER whose files are gone. Articles from other folders, from
`qa add` and from uploads are left alone (`qa remove ID` deletes any article). A file
whose id another origin already holds is skipped with a warning.

`qa index --rebuild [FOLDER]` re-embeds every kept article, from every origin, with
the current settings (after changing QA_MODEL, QA_BACKEND, QA_AUX_MODEL or the chunk
size, or to repair a damaged index); with FOLDER, that folder is read again first.
Indexing with settings that differ from the index's is refused, naming the setting."""


def _parse_auth(raw: str) -> tuple[str, str]:
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise QAError("--auth takes USER:PASSWORD, e.g. --auth editor:s3cret")
    return user, password


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index-dir", type=Path, default=None,
        help="index directory (default: $QA_INDEX_DIR or .qa)",
    )
    common.add_argument(
        "--store", default=None, metavar="URL",
        help="search (and publish to) a Qdrant collection, qdrant://HOST:PORT/COLLECTION "
             "(default: $QA_STORE, else the embedded store in the index directory)",
    )
    parser = argparse.ArgumentParser(
        prog="qa", description="Index news articles, ask questions, get cited passages."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "index", parents=[common], help="index a folder of articles (mirrors that folder only)",
        description=INDEX_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder", nargs="?", help="folder of .txt, .md, .html or .jsonl articles")
    p.add_argument("--rebuild", action="store_true",
                   help="re-embed every kept article, from every origin, with the current settings")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--ray", metavar="ADDRESS",
        help="chunk and embed on Ray actors, this process writes the index: `local` starts Ray here with one "
             "worker per core; `auto` joins the cluster in RAY_ADDRESS or started by `ray start` here, else "
             "starts one as `local`; HOST:PORT or ray://HOST:PORT joins that cluster "
             "(needs `pip install -e '.[cluster]'`)",
    )
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("list", parents=[common], help="the indexed articles and where each came from")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("add", parents=[common], help="add or replace single article files")
    p.add_argument("files", nargs="+", help=".txt, .md, .html or .jsonl files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=cmd_add)

    p = sub.add_parser("remove", parents=[common], help="delete articles by id")
    p.add_argument("ids", nargs="+", help="article ids (a file's stem, `source` in answers)")
    p.set_defaults(run=cmd_remove)

    p = sub.add_parser("ask", parents=[common], help="a cited answer and its passages")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--extractive", action="store_true",
        help="quote the articles even when an LLM is configured (QA_LLM_BASE_URL)",
    )
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("serve", parents=[common], help="open the chat in the browser")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--auth", metavar="USER:PASSWORD",
        help="require this login (use it whenever --host is not loopback)",
    )
    p.set_defaults(run=cmd_serve)
    sub.add_parser("bench", add_help=False, help="retrieval benchmark (see qa bench --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # the benchmark has its own options
        from qa.bench import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `qa ask ... | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
