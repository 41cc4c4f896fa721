"""The Gradio chat on top of `qa`."""

from ui import fast_import

fast_import.install()  # before anything in this package imports gradio
fast_import.headless_matplotlib()
