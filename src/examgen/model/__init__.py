"""The records the stages hand on, one module per stage: source (validated), computed, rendered."""
