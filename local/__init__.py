"""Local mode: the tracker's synthesized template running offline on one machine."""
