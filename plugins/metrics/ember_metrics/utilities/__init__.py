"""Helpers shared by the metrics: state reductions and cross-process gathering."""
from .data import apply_to_collection, dim_zero_cat, dim_zero_max, dim_zero_mean, dim_zero_min, dim_zero_sum
from .distributed import distributed_available, gather_all_tensors, gather_uneven

__all__ = ["apply_to_collection", "dim_zero_cat", "dim_zero_max", "dim_zero_mean", "dim_zero_min", "dim_zero_sum",
           "distributed_available", "gather_all_tensors", "gather_uneven"]
