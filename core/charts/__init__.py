"""Altair chart builders: a DataFrame in, an ``alt.Chart`` out. No streamlit, no models.

One module per page (its section of the lecture) beside ``base`` (palette, sizes, styling,
the spec sent to the browser, CSV/SVG export); everything is re-exported here, so pages and
tests call ``charts.descent_map(...)``. Every builder drops non-finite rows before anything
reaches Vega (a diverged run never sends NaN or inf to the browser) and says how many it
dropped in the chart's subtitle. Categorical colours are Okabe–Ito, sequential ones viridis:
both readable with the common colour-vision deficiencies. Fonts are sized for a projector;
``ui.show_chart`` enlarges them further in presenter mode.
"""

from core.charts.base import *  # noqa: F403
from core.charts.batchnorm import *  # noqa: F403
from core.charts.conditioning import *  # noqa: F403
from core.charts.nonconvex import *  # noqa: F403
from core.charts.normalization import *  # noqa: F403
from core.charts.plateaus import *  # noqa: F403
