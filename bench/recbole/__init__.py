"""RecBole 1.2.1 side by side with kgrec on kgrec's exact split (``python -m bench.recbole``)."""
