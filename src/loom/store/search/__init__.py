"""Run search: MLflow's filter syntax plus OR and parentheses, compiled to SQL."""
