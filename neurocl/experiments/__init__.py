"""Experiments: config -> run -> results directory."""
