"""LLM referees, meta-referees and the statistics that judge them.

- verdicts: parsing referee output (model output is bad input)
- prompts:  rubrics per family and the pairwise / listwise / meta prompts
- aggregate: pairwise results -> rankings, consensus and agreement
- panel:    `judge()` — a panel of referees ranks candidates
- meta:     `meta_judge()` — meta-referees rank the referees' rankings
- bias, accuracy, report: per-referee statistics read back from the store
"""
