"""Optimization Lab's core library.

Math modules (surfaces, models, data, optim, hessian, landscape) import only
torch/numpy/scipy; ``charts`` adds altair/pandas; ``ui`` is the only module
that imports streamlit. Everything is float64 unless a caller asks otherwise.
"""
