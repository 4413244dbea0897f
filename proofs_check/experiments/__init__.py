"""The paper's seven experiments (E1-E7), each beside the toolkit's certified counterpart."""
