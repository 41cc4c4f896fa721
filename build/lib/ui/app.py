"""The chat page: ask in any language, get a streamed answer whose [n] markers link to sources.

Layout: the conversation on the left, the sources of every answer on the right (newest
first, each turn's markers link to its own cards), settings and an "Add articles" panel
below. A `gr.api` endpoint `/answer` returns the same answer as data for `gradio_client`.
Everything shown that comes from articles, uploads or questions is escaped (`ui.render`).
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from index.errors import QAError
from qa.assistant import Assistant
from qa.retriever import PassageFilter
from ui.render import CSS, block, render_answer, render_sources

EXAMPLES = [
    "what did Lavrov discuss with Kuwait?",
    "ماذا ناقش لافروف مع الكويت؟",
    "When was Putin scheduled to meet the Emir of Qatar?",
    "ما أهم محاور زيارة رئيسي إلى موسكو؟",
]
EXTRACTIVE, LLM = "extractive", "LLM"
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".jsonl"]


class ChatHandlers:
    """The handlers behind the page; they hold no per-user state (that lives in gr.State)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def respond(
        self, message: str, history: list[dict], searched: list[str], sources_html: str,
        k: float, articles: list[str] | None, date_from: str, date_to: str, mode: str,
    ) -> Iterator[tuple[list[dict], str, list[str], str]]:
        """Stream one turn: (chat history, sources panel, searched queries, cleared box)."""
        history = [*(history or []), {"role": "user", "content": block(message)}]
        sources_html = sources_html or ""
        turn = len(searched) + 1
        prefix = f"t{turn}-src-"
        try:
            where = PassageFilter(tuple(articles or ()), _iso_date(date_from), _iso_date(date_to))
            answers = self.assistant.ask(
                message, searched, k=int(k), where=where, use_llm=(mode == LLM)
            )
            for answer in answers:
                reply = {"role": "assistant", "content": render_answer(answer, prefix)}
                turn_sources = _turn_sources(turn, answer.searched, render_sources(answer, prefix))
                yield [*history, reply], turn_sources + sources_html, searched, ""
            yield [*history, reply], turn_sources + sources_html, [*searched, answer.searched], ""
        except QAError as exc:
            reply = {"role": "assistant", "content": block(str(exc), "qa-block qa-error")}
            yield [*history, reply], sources_html, searched, message

    def add_files(self, files: list[str] | None) -> tuple[str, gr.Dropdown]:
        """Index uploaded files incrementally; say what was added and why files were rejected."""
        if not files:
            return block("Choose one or more files first.", "qa-block qa-note"), self.article_picker()
        try:
            report, skipped = self.assistant.add_files([Path(f) for f in files])
        except QAError as exc:
            return block(str(exc), "qa-block qa-error"), self.article_picker()
        lines = [
            f"Indexed {len(report.added)} new and {len(report.updated)} changed article(s), "
            f"{len(report.unchanged)} unchanged; the index now holds {report.chunk_count} passages."
        ]
        lines += [f"Rejected {Path(s.path).name}: {s.reason}" for s in skipped]
        return "".join(block(line) for line in lines), self.article_picker()

    def article_picker(self) -> gr.Dropdown:
        try:
            rows = self.assistant.articles()
        except QAError:
            rows = []
        choices = [(f"{title or article_id} ({date or 'no date'})", article_id) for article_id, title, date in rows]
        return gr.Dropdown(choices=choices)

    def answer_api(self, question: str, k: int = 5, previous: list[str] | None = None) -> dict:
        """The final answer as data: answer text, abstained, citations, passages, searched."""
        try:
            return self.assistant.answer(question, previous or [], k=int(k)).to_dict()
        except QAError as exc:  # gr.Error is the exception whose message reaches the client
            raise gr.Error(str(exc)) from exc


def _turn_sources(turn: int, searched: str, cards: str) -> str:
    heading = block(f"{turn}. {searched}", "qa-block qa-turn", f"<b>{turn}.</b> {html.escape(searched)}")
    return f'<div class="qa-turn-sources">{heading}{cards}</div>'


def _iso_date(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise QAError(f"dates are written YYYY-MM-DD, e.g. 2023-10-05; got {text!r}") from None


def build_app(assistant: Assistant) -> gr.Blocks:
    handlers = ChatHandlers(assistant)
    llm_ready = assistant.llm is not None
    with gr.Blocks(title="News QA") as app:
        gr.Markdown(
            "## Ask the indexed news articles\n"
            "Every sentence of an answer is quoted from an article and carries a marker "
            "[n] that leads to its source on the right."
        )
        searched = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=520)
                question = gr.Textbox(
                    show_label=False, placeholder=EXAMPLES[0], elem_id="question", lines=1
                )
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New conversation")
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(elem_id="sources")
        with gr.Accordion("Settings", open=False):
            k = gr.Slider(1, 20, value=5, step=1, label="Passages")
            articles = gr.Dropdown(multiselect=True, label="Only these articles", choices=[])
            with gr.Row():
                date_from = gr.Textbox(label="Published from (YYYY-MM-DD)")
                date_to = gr.Textbox(label="Published until (YYYY-MM-DD)")
            mode = gr.Radio(
                [EXTRACTIVE, LLM] if llm_ready else [EXTRACTIVE],
                value=LLM if llm_ready else EXTRACTIVE,
                label="Answer mode" + ("" if llm_ready else " (set QA_LLM_BASE_URL to add an LLM)"),
            )
        with gr.Accordion("Add articles", open=False):
            files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload")
            add = gr.Button("Index these files", elem_id="add-articles")
            report = gr.HTML(elem_id="upload-report")

        inputs = [question, chatbot, searched, sources, k, articles, date_from, date_to, mode]
        outputs = [chatbot, sources, searched, question]
        ask.click(handlers.respond, inputs, outputs, api_visibility="private")
        question.submit(handlers.respond, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], "", [], ""), None, outputs, api_visibility="private")
        add.click(handlers.add_files, files, [report, articles], api_name="add_articles")
        app.load(handlers.article_picker, None, articles, api_visibility="private")
        gr.api(handlers.answer_api, api_name="answer")
    return app


def serve(
    assistant: Assistant, host: str = "127.0.0.1", port: int = 7860,
    auth: tuple[str, str] | None = None,
) -> None:
    """Serve the chat; start `assistant.warm_up` first (see `qa.cli.cmd_serve`)."""
    settings = assistant.settings
    # Gradio imports matplotlib when it handles its first event (0.2 s): import it beside
    # building the page rather than inside the first answer.
    threading.Thread(target=importlib.import_module, args=("matplotlib",), daemon=True).start()
    build_app(assistant).queue(default_concurrency_limit=2).launch(
        server_name=host, server_port=port, css=CSS, max_file_size=f"{settings.max_upload_mb}mb",
        auth=auth,
    )
