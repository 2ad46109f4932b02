"""LLM training and inference performance: workloads, systems, step-time and memory models, parallelism search."""
