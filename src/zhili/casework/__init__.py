"""Casework of the grid: disputes (矛盾纠纷) mediated up three levels, and petitions (信访) on the
statutory clocks of 信访工作条例 (2022). Each case keeps an append-only `CaseEvent` log."""
