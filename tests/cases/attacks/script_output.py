# An extra cell: markup that would run script in whatever page shows it (feedback, the Formgrader, JupyterLab).
# Each payload sets a mark on the page (window.PWNED) if it runs.
from IPython.display import HTML, SVG, Javascript, Markdown, display, publish_display_data

MARK = "window.PWNED = (window.PWNED || 0) + 1; document.title = 'PWNED';"
display(HTML(f"<script>{MARK}</script><b>bold</b>"))
display(HTML(f'<img src="x" onerror="{MARK}">'))
display(Javascript(MARK))
display(SVG(f'<svg xmlns="http://www.w3.org/2000/svg"><script>{MARK}</script><circle r="5"/></svg>'))
display(Markdown(f"<script>{MARK}</script> *markdown*"))
publish_display_data(
    {"text/html": f"<iframe srcdoc='<script>parent.{MARK}</script>'></iframe>"}, metadata={"isolated": False}
)
publish_display_data({"text/html": f'<a href="javascript:{MARK}">link</a><details open ontoggle="{MARK}">x</details>'})
publish_display_data({"text/markdown": f"[x](javascript:{MARK})"})
publish_display_data({"application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2}})
print("SCRIPT shown")
