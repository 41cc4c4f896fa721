"""A minimal Gradio page over the retriever: a question in, numbered cited passages out.

Everything taken from articles or questions is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html

import gradio as gr

from index.config import Settings
from index.errors import QAError
from qa.retriever import Passage, Retriever

CSS = """
.passage, .passage * { unicode-bidi: plaintext; text-align: start; }
.passage { border: 1px solid #ddd; border-radius: 8px; padding: 8px 12px; margin: 8px 0; }
.passage .meta { color: #666; font-size: 0.85em; }
"""

EXAMPLES = ["what did Lavrov discuss with Kuwait?", "ماذا ناقش لافروف مع الكويت؟"]


def render_passages(passages: list[Passage]) -> str:
    """Numbered sources as escaped HTML; direction follows each text's own script."""
    blocks = []
    for p in passages:
        meta = " · ".join(html.escape(x) for x in (p.date, p.outlet, p.source) if x)
        blocks.append(
            f'<div class="passage" dir="auto"><div><b>[{p.rank}] {html.escape(p.title)}</b></div>'
            f'<div class="meta">{meta} · chars {p.start}-{p.end} · score {p.score:.3f}</div>'
            f"<p>{html.escape(p.text)}</p></div>"
        )
    return "\n".join(blocks) or "<p>No passages.</p>"


def build_app(retriever: Retriever) -> gr.Blocks:
    def ask(question: str, k: float) -> str:
        try:
            return render_passages(retriever.search(question, k=int(k)))
        except QAError as exc:
            return f'<p class="error">{html.escape(str(exc))}</p>'

    with gr.Blocks(title="News QA") as app:
        gr.Markdown("## Ask the indexed news articles\nAnswers are passages, cited by source.")
        question = gr.Textbox(label="Question", placeholder=EXAMPLES[0], rtl=False)
        k = gr.Slider(1, 20, value=5, step=1, label="Passages")
        button = gr.Button("Search", variant="primary")
        output = gr.HTML()
        gr.Examples(EXAMPLES, inputs=question)
        button.click(ask, [question, k], output, api_name="search")
        question.submit(ask, [question, k], output)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    retriever = Retriever(settings)
    retriever.reader  # fail now with a clear message if there is no index
    build_app(retriever).queue().launch(server_name=host, server_port=port, css=CSS)
