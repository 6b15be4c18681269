"""Home: what Optimization Lab is, and the lecture map (section → page)."""

import streamlit as st

from core import ui
from core.i18n import t
from core.lecture import SECTIONS

ui.page("Optimization Lab", intro="home.intro")

st.subheader(t("home.map.title"))
pages = {p.label: p for p in ui.PAGES}
header = st.columns([3, 4, 2])
for col, text in zip(header, [t("home.map.section"), t("home.map.claim"), t("home.map.page")]):
    col.markdown(f"**{text}**")
for section in SECTIONS:
    c1, c2, c3 = st.columns([3, 4, 2], vertical_alignment="center")
    c1.markdown(section.title)
    c2.markdown(section.claim)
    info = pages[section.page]
    if ui.page_exists(info):
        ui.page_link(info, c3, preset=section.preset)
    else:
        c3.markdown(t("home.map.coming", page=info.name))

with st.expander(t("home.about.title")):
    st.markdown(t("home.about.text"))

ui.finish()
