"""The BatchNorm & skip page under AppTest: the numbers it shows are core's, controls change what they
should, and a link reproduces a view (tab, BN mode, point and network included)."""

from __future__ import annotations

import pytest

from core import deepnets as dn
from tests.conftest import chart_specs, no_exception

PAGE = "pages/5_BatchNorm_and_Skip.py"
TABS = ["Training", "Activations & gradients", "Hessian", "Layer interactions", "Loss landscape"]
HESSIANS = {"hessians": "true"}  # the switch that lets the Hessian tabs compute (the page's heavy action)


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _titles(at) -> list[str]:
    out = []
    for spec in chart_specs(at):
        t = spec.get("title", {})
        out.append(t.get("text", "") if isinstance(t, dict) else str(t))
    return out


def _notes(at) -> str:
    return " ".join(w.value for w in at.warning)


def test_defaults_show_the_trained_losses_of_core(app_test):
    at = app_test(PAGE)
    no_exception(at)
    assert not _notes(at), "no divergence and no rejected link parameter at the defaults"
    assert _titles(at) == ["Training loss, γ = 0.05 for all four"]
    table = at.dataframe[0].value.set_index("variant")
    for v in dn.VARIANTS:
        final = dn.train_variant(dn.Setup(), v).final_loss
        assert table.loc[v, "E after 100 steps"] == f"{final:.4g}"
    assert list(table["largest stable γ (sweep)"]) == ["0.5", "0.25", "0.0625", "0.0625"]
    text = _markdown(at)
    assert "After 100 steps at γ = 0.05: plain 0.0185, + batch norm 0.00756" in text
    assert "Lowest: **+ batch norm**" in text


@pytest.mark.parametrize(
    ("view", "n_charts", "expected"),
    [
        ("Activations & gradients", 3, "First-layer gradient ‖∂E/∂W₁‖ at θ₀: plain 0.0625, + skip 2.41 (38.6×)"),
        ("Hessian", 2, "Lanczos (HVPs only) agrees with the exact eigenvalues"),
        ("Layer interactions", 4, "**the measurement supports the slide's claim here**"),
        ("Loss landscape", 5, "Directions are filter-normalized"),
    ],
)
def test_every_tab_at_the_defaults(app_test, view, n_charts, expected):
    at = app_test(PAGE, query={"view": view, **HESSIANS})
    no_exception(at)
    assert len(at.get("vega_lite_chart")) == n_charts
    assert expected in _markdown(at)
    if view == "Activations & gradients":
        assert at.latex and r"\sigma_j^2" in at.latex[0].value, "the slide's BN formula"
    if view == "Layer interactions":
        shares = at.dataframe[0].value.set_index("variant")["off-block share of ‖H‖²_F"]
        assert list(shares) == ["0.8476", "0.7016", "0.228", "0.2191"]


@pytest.mark.parametrize(("view", "where"), [("Hessian", "hessian"), ("Layer interactions", "interactions")])
def test_the_hessians_are_computed_only_when_asked(app_test, monkeypatch, view, where):
    """Four Hessians take 1-2 s: the tabs compute them only with the switch on, and their button
    turns it on (and into the link) in one click."""
    calls = []
    monkeypatch.setattr(dn, "variant_hessian", lambda *a: calls.append(a) or pytest.fail("computed unasked"))
    at = app_test(PAGE, query={"view": view, "seed": "9"})  # a setting no other test has cached
    no_exception(at)
    assert at.toggle(key="hessians").value is False and not calls
    assert not at.get("vega_lite_chart") and not at.dataframe
    p = dn.largest_n_params(dn.Setup(seed=9))
    assert any(f"the largest has {p} parameters" in i.value for i in at.info), [i.value for i in at.info]
    monkeypatch.undo()
    at.button(key=f"compute-hessians-{where}").click().run()
    no_exception(at)
    assert at.toggle(key="hessians").value is True
    assert len(at.get("vega_lite_chart")) == (2 if view == "Hessian" else 4)
    assert any("hessians=true" in c.value for c in at.code), "Link to this view carries the switch"


def test_a_large_learning_rate_makes_skip_diverge_and_the_page_says_why(app_test):
    at = app_test(PAGE)
    at.slider(key="lr").set_value(0.5).run()
    no_exception(at)
    notes = _notes(at)
    assert "GD on **+ skip** diverged at step" in notes and "largest stable γ in the sweep is 0.0625" in notes
    assert "GD on **plain**" not in notes, "plain is stable up to 0.5"
    table = at.dataframe[0].value.set_index("variant")
    assert table.loc["+ skip", "GD diverged at step"] != "—" and table.loc["plain", "GD diverged at step"] == "—"
    at = app_test(PAGE, query={"lr": "0.5", "view": "Loss landscape"})
    no_exception(at)
    assert "No slices for + skip: GD diverged" in _notes(at)


def test_steps_and_seed_change_the_training(app_test):
    at = app_test(PAGE)
    before = at.dataframe[0].value
    at.slider(key="steps").set_value(50).run()
    no_exception(at)
    assert "E after 50 steps" in at.dataframe[0].value.columns
    at.number_input(key="seed").set_value(1).run()
    no_exception(at)
    assert not at.dataframe[0].value["E(θ₀)"].equals(before["E(θ₀)"])


def test_batchnorm_mode_changes_only_the_batchnorm_hessians(app_test):
    tables = {}
    for mode in dn.MODES:
        at = app_test(PAGE, query={"view": "Hessian", "bn_mode": mode, **HESSIANS})
        no_exception(at)
        assert at.radio(key="bn_mode").value == mode
        tables[mode] = at.dataframe[0].value.set_index("variant")["λ_max after training"]
    for v, (use_batchnorm, _) in dn.VARIANTS.items():
        same = tables["train"][v] == tables["eval"][v]
        assert same != use_batchnorm, v
    assert tables["eval"]["+ batch norm"] == "64.37"  # measured: 47.93 in train mode


def test_deep_link_reproduces_a_view(app_test):
    query = {
        "depth": "4",
        "width": "6",
        "activation": "sigmoid",
        "seed": "3",
        "view": "Layer interactions",
        "bn_mode": "eval",
        "at": "initial",
        **HESSIANS,
    }
    at = app_test(PAGE, query=query)
    no_exception(at)
    assert not _notes(at)
    assert at.slider(key="depth").value == 4 and at.slider(key="width").value == 6
    assert at.selectbox(key="activation").value == "sigmoid" and at.number_input(key="seed").value == 3
    assert at.radio(key="bn_mode").value == "eval" and at.radio(key="at").value == "initial"
    text = _markdown(at)
    assert "Measured at initialization, BN in eval mode" in text
    setup = dn.Setup(depth=4, width=6, activation="sigmoid", seed=3)
    runs = {v: dn.train_variant(setup, v) for v in dn.VARIANTS}
    study = dn.hessian_study(setup, runs, "eval", "initial")
    shown = at.dataframe[0].value.set_index("variant")["off-block share of ‖H‖²_F"]
    for v, r in study.reports.items():
        assert shown[v] == f"{r.off_block_share:.4g}"
    assert len(at.get("vega_lite_chart")) == 4


def test_a_net_too_large_for_the_exact_hessian_estimates_the_blocks(app_test):
    at = app_test(PAGE, query={"depth": "12", "width": "10", "view": "Layer interactions", **HESSIANS})
    no_exception(at)
    assert set(at.dataframe[0].value["block norms"]) == {f"estimated ({dn.PROBES} probes per layer)"}
    assert "Hutchinson estimates" in _markdown(at)
    at = app_test(PAGE, query={"depth": "12", "width": "10", "view": "Hessian", **HESSIANS})
    no_exception(at)
    assert any("no exact Hessian" in i.value for i in at.info)
    assert len(at.get("vega_lite_chart")) == 1, "only Lanczos' top eigenvalues"


def test_a_bad_tab_in_the_link_is_named(app_test):
    at = app_test(PAGE, query={"view": "Nonsense", "bn_mode": "test"})
    no_exception(at)
    notes = _notes(at)
    assert "`view`" in notes and "`bn_mode`" in notes
    assert at.radio(key="bn_mode").value == "train"


def test_in_chinese_the_variants_have_chinese_names_and_the_same_colours(app_test):
    colours = {}
    for lang in ("en", "zh"):
        at = app_test(PAGE, query={"lang": lang})
        no_exception(at)
        [spec] = chart_specs(at)
        scale = spec["encoding"]["color"]["scale"]
        colours[lang] = dict(zip(scale["domain"], scale["range"], strict=True))
        table = at.dataframe[0].value
    assert list(colours["zh"]) == ["普通", "+ 批归一化", "+ 跳跃连接", "+ 两者"]
    assert list(colours["zh"].values()) == list(colours["en"].values()), "plain is blue in both languages"
    assert list(table["变体"]) == list(colours["zh"]), "the table names them as the legend does"
    assert "最低：**+ 批归一化**" in _markdown(at)
    assert at.radio(key="bn_mode").value == "train", "the URL values stay English"
