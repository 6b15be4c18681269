"""Home: what Optimization Lab is, and the lecture map (section → page)."""

import streamlit as st

from core import ui
from core.lecture import SECTIONS

ui.page(
    "Optimization Lab",
    "Live experiments for **Deep Learning 1 — Optimization (Part 1)**. Every claim of the lecture "
    "— non-convexity, plateaus, conditioning and the Hessian, normalization, batch norm and skip "
    "connections — is computed here on the spot by real torch models, with the theory printed "
    "beside the measurement. Move a slider and see; where the measurement disagrees with a slide, "
    "the page says so.",
)

st.subheader("Lecture map")
pages = {p.label: p for p in ui.PAGES}
header = st.columns([3, 4, 2])
for col, text in zip(header, ["Lecture section", "What you can see", "Page"]):
    col.markdown(f"**{text}**")
for section in SECTIONS:
    c1, c2, c3 = st.columns([3, 4, 2], vertical_alignment="center")
    c1.markdown(section.title)
    c2.markdown(section.claim)
    info = pages[section.page]
    if ui.page_exists(info):
        ui.page_link(info, c3, preset=section.preset)
    else:
        c3.markdown(f"*{info.label}: coming*")

with st.expander("About"):
    st.markdown(
        "Built for an instructor projecting it live (presenter mode in the sidebar, and every view "
        "is a link: *Link to this view*) and for students on a laptop. All numbers are float64 and "
        "seeded: the same settings give the same numbers."
    )

ui.finish()
