"""Non-convexity: one linear layer is convex, two linear layers are not — made visible and measured."""

import streamlit as st

from core import charts, nonconvex, ui
from core.i18n import t

MAP_KEY = "descent_map"
START_RANGE = (-nonconvex.MAX_SPAN, nonconvex.MAX_SPAN)


def start_from_click() -> None:
    """on_select callback: runs before the rerun, so the start sliders are created with the clicked point."""
    picked = st.session_state[MAP_KEY].selection.get("pick") or []
    if picked:
        for key, field in (("w0", "w"), ("v0", "v")):
            st.session_state[key] = min(max(round(float(picked[-1][field]), 2), START_RANGE[0]), START_RANGE[1])


def row(n: int) -> list:
    """n columns side by side; stacked in presenter mode, where the type is large."""
    return [st.container() for _ in range(n)] if ui.presenter() else st.columns(n, gap="medium")


def start_at_saddle() -> None:
    st.session_state["w0"] = st.session_state["v0"] = 0.0


@ui.cached
def view(settings: nonconvex.Settings, look: tuple[bool, bool, str]):
    """The numbers and the styled chart specs, cached together: building Altair charts costs
    most of a rerun (``look`` = presenter, contrast, language: part of the cache key; the
    charts' words are made here, in the language of this run)."""
    r = nonconvex.experiment(settings)
    built = [
        charts.descent_map(
            r.grid,
            nonconvex.chart_paths(r),
            nonconvex.markers_frame(r),
            names=r.names,
            steps=settings.steps,
            stride=r.stride,
            height=760 if look[0] else 640,
        ),
        charts.curvature_map(r.grid, r.verdict.at, names=r.names, height=460 if look[0] else 340),
        *(
            charts.chord_slice(nonconvex.slices_frame(r), model, name=nonconvex.model_name(model))
            for model in nonconvex.MODELS
        ),
    ]
    return r, charts.nonconvex_specs(*built, presenter=look[0], high_contrast=look[1])


ui.page("Non-convexity", intro="nonconvex.intro")

model = ui.select(
    "model",
    t("nonconvex.model.label"),
    list(nonconvex.MODELS),
    "two layers",
    horizontal=True,
    help=t("nonconvex.model.help"),
    names={m: nonconvex.model_name(m) for m in nonconvex.MODELS},
)
with st.sidebar:
    st.subheader(t("nonconvex.sidebar.data"))
    lam = ui.slider("lam", t("nonconvex.controls.lam"), 0.0, 2.0, 0.1, 0.01, help=t("nonconvex.controls.lam_help"))
    n = ui.slider("n", t("nonconvex.controls.n"), 1, 50, 1, help=t("nonconvex.controls.n_help"))
    x = ui.slider("x", t("nonconvex.controls.x"), -2.0, 2.0, 1.0, 0.1, help=t("nonconvex.controls.x_help"))
    target = ui.slider("t", t("nonconvex.controls.t"), -2.0, 2.0, 1.0, 0.1, help=t("nonconvex.controls.t_help"))
    data_seed = ui.number("dseed", t("nonconvex.controls.dseed"), 0, 9999, 0, help=t("nonconvex.controls.dseed_help"))
    st.subheader(t("nonconvex.sidebar.gd"))
    start_help = t("nonconvex.controls.start_help")
    w0 = ui.slider("w0", t("nonconvex.controls.w0"), *START_RANGE, 1.5, 0.01, help=start_help)
    v0 = ui.slider("v0", t("nonconvex.controls.v0"), *START_RANGE, -0.5, 0.01, help=start_help)
    st.button(t("nonconvex.controls.origin"), on_click=start_at_saddle, icon=":material/my_location:")
    lr = ui.slider("lr", t("nonconvex.controls.lr"), 0.001, 1.0, 0.1, 0.001, help=t("nonconvex.controls.lr_help"))
    steps = ui.slider(
        "steps", t("nonconvex.controls.steps"), 10, 1000, 300, 10, help=t("nonconvex.controls.steps_help")
    )
    st.subheader(t("nonconvex.sidebar.restarts"))
    restarts = ui.slider(
        "restarts", t("nonconvex.controls.restarts"), 0, 30, 8, help=t("nonconvex.controls.restarts_help")
    )
    scale = ui.slider(
        "scale", t("nonconvex.controls.scale"), 0.01, 3.0, 1.0, 0.01, help=t("nonconvex.controls.scale_help")
    )
    seed = ui.number("seed", t("nonconvex.controls.seed"), 0, 9999, 0, help=t("nonconvex.controls.seed_help"))

settings = nonconvex.Settings(
    model=model,
    lam=float(lam),
    n=int(n),
    x=float(x),
    t=float(target),
    data_seed=int(data_seed),
    start=(float(w0), float(v0)),
    lr=float(lr),
    steps=int(steps),
    restarts=int(restarts),
    init_scale=float(scale),
    seed=int(seed),
)
result, (map_spec, curvature_spec, *slice_specs) = view(settings, ui.look())
if result.divergence:
    more = len(result.divergence) - 1
    also = t("nonconvex.page.diverged_more", more=more) if more else ""
    ui.note(t("nonconvex.page.diverged", first=result.divergence[0], also=also))

for column, formula in zip(row(2), nonconvex.FORMULAS[model]):
    column.latex(formula)
st.caption(nonconvex.data_text(result))

left, right = row(2)
with left:
    ui.show_spec(map_spec, key=MAP_KEY, on_select=start_from_click, selection_mode="pick")
with right:
    st.markdown(t("nonconvex.page.critical"))
    st.dataframe(nonconvex.critical_frame(result).style.format(precision=4), hide_index=True, width="stretch")
    ui.show_spec(curvature_spec)  # its verdict is the second line of "What to notice", just below

st.subheader(t("nonconvex.page.notice"))
st.markdown("\n".join(f"- {line}" for line in nonconvex.notice(result)))

st.subheader(t("nonconvex.page.chords"))
ui.prose(t("nonconvex.page.chords_text", how=result.slice_how))
for column, spec in zip(row(2), slice_specs):
    with column:
        ui.show_spec(spec)

st.subheader(t("nonconvex.page.restarts"))
st.markdown(nonconvex.shares_text(result))
runs = nonconvex.runs_frame(result)  # one row per run, in the order of result.runs
best = [run is result.best for run in result.runs]
st.dataframe(
    runs.style.format(precision=4).apply(
        lambda row: ["background-color: #d7f0e5; font-weight: bold" if best[row.name] else ""] * len(row), axis=1
    ),
    hide_index=True,
    width="stretch",
)

ui.finish()
