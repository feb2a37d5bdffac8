"""Compile: rules -> generated Python evaluators, one per question (codegen) plus their helpers (runtime)."""
