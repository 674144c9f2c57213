"""The pipeline stages, one module each: load, validate, compute, render, compile, check."""
