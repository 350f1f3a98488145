"""Data mining: models trained on the operator's data, scored into tags (issue 7)."""
