"""The floor for page-latency figures: Streamlit's own cost of a rerun of a trivial page."""

import streamlit as st

st.title("empty")
st.slider("x", 0.0, 1.0, 0.5, key="x")
