"""The drawing canvas: a plain HTML canvas inside Gradio (its gr.HTML component with a script) that
sends the drawing as a PNG the moment a stroke ends. Gradio's own Sketchpad exports and uploads its
layers first, which took about 0.6 s a stroke in headless Chromium here; this takes one request."""

import base64

import gradio as gr

SIDE = 280  # pixels: ten times MNIST's side, room for a digit or a short number
PEN = 18  # pixels: a felt-tip pen's width on the canvas, MNIST's proportion
PREFIX = "data:image/png;base64,"
TEMPLATE = f"""<div class="drawing">
  <canvas width="{SIDE}" height="{SIDE}" aria-label="Draw a digit here"></canvas>
  <button type="button" class="clear">Clear</button>
</div>"""
STYLE = """.drawing canvas { width: 100%; max-width: 420px; aspect-ratio: 1; background: white; border: 1px solid #bbb;
  border-radius: 6px; touch-action: none; cursor: crosshair; display: block; }
.drawing .clear { margin-top: 6px; padding: 4px 14px; border: 1px solid #bbb; border-radius: 6px; }"""
# Pointer events serve a mouse, a pen and a finger alike; the PNG keeps the strokes on transparency.
SCRIPT = f"""
const canvas = element.querySelector('canvas'), pen = canvas.getContext('2d');
Object.assign(pen, {{lineWidth: {PEN}, lineCap: 'round', lineJoin: 'round', strokeStyle: 'black'}});
let last = null;
const at = (event) => {{
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / box.width;
  return [(event.clientX - box.left) * scale, (event.clientY - box.top) * scale];
}};
const line = (from, to) => {{ pen.beginPath(); pen.moveTo(...from); pen.lineTo(...to); pen.stroke(); }};
const send = () => {{ props.value = canvas.toDataURL('image/png'); trigger('change'); }};
canvas.addEventListener('pointerdown', (event) => {{
  canvas.setPointerCapture(event.pointerId); last = at(event); line(last, last);
}});
canvas.addEventListener('pointermove', (event) => {{
  if (last) {{ const next = at(event); line(last, next); last = next; }}
}});
canvas.addEventListener('pointerup', () => {{ if (last) {{ last = null; send(); }} }});
element.querySelector('.clear').addEventListener('click', () => {{
  pen.clearRect(0, 0, canvas.width, canvas.height); send();
}});
"""


def drawing_canvas() -> gr.HTML:
    """The canvas; its value is the drawing as a PNG data URL, and it changes when a stroke ends."""
    return gr.HTML("", html_template=TEMPLATE, css_template=STYLE, js_on_load=SCRIPT, elem_id="canvas")


def png_of(drawing: str | None) -> bytes | None:
    """The PNG a canvas sent, or None before any drawing."""
    return base64.b64decode(drawing.removeprefix(PREFIX)) if drawing and drawing.startswith(PREFIX) else None
