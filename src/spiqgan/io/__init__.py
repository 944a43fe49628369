"""Files written safely: atomic writes (:mod:`~spiqgan.io.atomic`) and checkpoints as data (:mod:`~spiqgan.io.checkpoint`).

The lowest stage: it imports nothing of spiqgan but :mod:`spiqgan.exceptions`.
"""
