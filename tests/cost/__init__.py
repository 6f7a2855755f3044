"""Tests of ember.cost: the price table, model matching and per-span cost."""
