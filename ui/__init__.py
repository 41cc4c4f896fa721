"""The Gradio chat on top of `qa`."""
