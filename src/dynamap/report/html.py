"""A self-contained HTML report: figures embedded as PNG data URIs, tables from dicts."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

__all__ = ["Report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left} th{background:#f4f4f4} figure{margin:1em 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555} .ok{color:#1a7f37;font-weight:600} .bad{color:#c62828;font-weight:600}
.note{background:#fafafa;border-left:3px solid #999;padding:.4em .8em;font-size:.92em}
.row{display:flex;gap:1em;flex-wrap:wrap} .row figure{flex:1 1 480px}
"""


class Report:
    """Collects sections, then renders one HTML file with everything inline."""

    def __init__(self, title: str, subtitle: str = ""):
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []

    def heading(self, text: str) -> None:
        self._parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, cls: str = "") -> None:
        c = f' class="{cls}"' if cls else ""
        self._parts.append(f"<p{c}>{html.escape(text)}</p>")

    def figure(self, fig, caption: str = "") -> None:
        """Embed a matplotlib figure (closed afterwards)."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        self.image(buf.getvalue(), caption)

    def figures_row(self, figs: list[tuple[object, str]]) -> None:
        start = len(self._parts)
        for fig, cap in figs:
            self.figure(fig, cap)
        inner = "".join(self._parts[start:])
        del self._parts[start:]
        self._parts.append(f'<div class="row">{inner}</div>')

    def image(self, png: bytes | str | Path, caption: str = "") -> None:
        if not isinstance(png, bytes):
            png = Path(png).read_bytes()
        data = base64.b64encode(png).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        alt = html.escape(caption or "figure")
        self._parts.append(f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>')

    def table(self, rows: list[dict], columns: list[str] | None = None) -> None:
        if not rows:
            self.paragraph("(no rows)")
            return
        columns = columns or list(rows[0])
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = []
        for r in rows:
            cells = []
            for c in columns:
                v = r.get(c, "")
                cls = ""
                if isinstance(v, bool):
                    cls = ' class="ok"' if v else ' class="bad"'
                    v = "yes" if v else "no"
                elif isinstance(v, float):
                    v = f"{v:.4g}"
                cells.append(f"<td{cls}>{html.escape(str(v))}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        self._parts.append(f"<table><tr>{head}</tr>{''.join(body)}</table>")

    def render(self) -> str:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        sub = f"<p>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{sub}<p class='note'>generated {stamp} by dynamap</p>"
            + "\n".join(self._parts)
            + "</body></html>"
        )

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.render(), encoding="utf-8")
        return path
