"""Helpers of benches/accuracy.py: CIEDE2000, matching and scoring against truth, the condition
bands, the generators, the sep baseline and the tables. Nothing here imports smpscope or sep at
module level, so the scorer's tests run without either."""
